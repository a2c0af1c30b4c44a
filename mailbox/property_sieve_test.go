package mailbox

import (
	evlog "github.com/surat-mail/surat/log"
)

// sieveEntries returns n entries of Sieve events after the entries given:
// scripts put, renamed, activated and deleted for users and the
// administrators' owners, vacation replies and duplicate ids on both sides
// of the prunes', forwarding and SRS keys, some of them refused; then a
// user whose records outlive the workload, so that every Sieve key kind
// is left in the store.
func (g *generator) sieveEntries(after []entry, n int) []entry {
	index := after[len(after)-1].index + 1
	owners := append([]string{GlobalSieveOwner, DomainSieveOwner("example.org"), DomainSieveOwner("nowhere.test")}, g.users...)
	names := []string{"main", "vacation", "Spam rules", "bad\x01name"}
	var out []entry
	add := func(e *evlog.Event) {
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: []*evlog.Event{e}})
		if err != nil {
			panic(err)
		}
		out = append(out, entry{index: index, proposals: [][]byte{p}})
		index++
	}
	for i := range n {
		now := int64(1_700_000_000 + g.rng.IntN(1000))
		owner, name := g.pick(owners), g.pick(names)
		switch g.rng.IntN(10) {
		case 0:
			add(sieveEv(&evlog.SieveScriptPut{Owner: owner, Name: name, Script: []byte("keep;\r\n"), PutUnix: now,
				MaxScripts: 2, MaxBytes: 64 << 10, Activate: g.rng.IntN(2) == 0}))
		case 1:
			add(sieveEv(&evlog.SieveScriptRenamed{Owner: owner, Name: name, NewName: g.pick(names)}))
		case 2:
			add(sieveEv(&evlog.SieveScriptActivated{Owner: owner, Name: []string{"", name}[g.rng.IntN(2)]}))
		case 3:
			add(sieveEv(&evlog.SieveScriptDeleted{Owner: owner, Name: name}))
		case 4:
			hash, size := g.body()
			add(sieveEv(&evlog.VacationReplied{User: g.user(), Sender: g.pick([]string{"a@remote.test", "b@remote.test"}),
				Handle: g.pick([]string{"", "h1"}), RepliedUnix: now, ExpiresUnix: now + int64(1+g.rng.IntN(500)),
				Reply: vacationReply(byte(i), hash, size, now)}))
		case 5:
			add(sieveEv(&evlog.DuplicateRecorded{User: g.user(), Ids: [][]byte{{byte(g.rng.IntN(4))}}, SeenUnix: now,
				ExpiresUnix: now + int64(1+g.rng.IntN(500))}))
		case 6:
			add(sieveEv(&evlog.SievePruned{BeforeUnix: now}))
		case 7:
			add(sieveEv(&evlog.ForwardingSet{User: g.user(), Addresses: [][]string{nil, {"x@remote.test"}}[g.rng.IntN(2)],
				Keep: g.rng.IntN(2) == 0}))
		case 8:
			add(sieveEv(&evlog.SrsKeyAdded{Key: []byte("0123456789abcdef" + string(rune('a'+g.rng.IntN(10)))), AddedUnix: now}))
		default:
			add(sieveEv(&evlog.SieveScriptPut{Owner: owner, Name: name, Script: make([]byte, 70<<10), PutUnix: now,
				MaxBytes: 64 << 10})) // refused: too large
		}
	}
	const keeper = "sievekeep@example.org"
	const far = 1_900_000_000
	add(userCreated(keeper, 1_700_000_000)) // refused after the first workload on a store
	add(sieveEv(&evlog.SieveScriptPut{Owner: keeper, Name: "main", Script: []byte("keep;\r\n"), PutUnix: far, Activate: true}))
	// The reply's body in the same proposal, as the filter proposes it.
	reply := []byte("Subject: Auto: away\r\n\r\nAway.\r\n")
	c := evlog.Chunks(reply)[0]
	p, err := evlog.EncodeBatch(&evlog.Batch{Events: []*evlog.Event{blobStored(c),
		sieveEv(&evlog.VacationReplied{User: keeper, Sender: "far@remote.test", RepliedUnix: far, ExpiresUnix: far + 1,
			Reply: vacationReply(0xff, c.Hash, len(reply), far)})}})
	if err != nil {
		panic(err)
	}
	out = append(out, entry{index: index, proposals: [][]byte{p}})
	index++
	add(sieveEv(&evlog.DuplicateRecorded{User: keeper, Ids: [][]byte{{9}}, SeenUnix: far, ExpiresUnix: far + 1}))
	add(sieveEv(&evlog.ForwardingSet{User: keeper, Addresses: []string{"far@remote.test"}}))
	add(sieveEv(&evlog.SrsKeyAdded{Key: []byte("fedcba9876543210"), AddedUnix: far}))
	return out
}

// vacationReply is a reply's Queued (from the null sender, RFC 3834 §3.3).
func vacationReply(n byte, hash []byte, size int, now int64) *evlog.Queued {
	id := make([]byte, queueIDLen)
	id[0], id[1], id[15] = 0x5e, 0x7e, n
	return &evlog.Queued{Id: id, Blob: hash, Size: uint64(size), QueuedUnix: now, ExpiresUnix: now + 86400,
		Recipients: []*evlog.QueueRecipient{{Address: "a@remote.test"}}}
}

func sieveEv(k any) *evlog.Event {
	e := &evlog.Event{}
	switch k := k.(type) {
	case *evlog.SieveScriptPut:
		e.Kind = &evlog.Event_SieveScriptPut{SieveScriptPut: k}
	case *evlog.SieveScriptDeleted:
		e.Kind = &evlog.Event_SieveScriptDeleted{SieveScriptDeleted: k}
	case *evlog.SieveScriptRenamed:
		e.Kind = &evlog.Event_SieveScriptRenamed{SieveScriptRenamed: k}
	case *evlog.SieveScriptActivated:
		e.Kind = &evlog.Event_SieveScriptActivated{SieveScriptActivated: k}
	case *evlog.VacationReplied:
		e.Kind = &evlog.Event_VacationReplied{VacationReplied: k}
	case *evlog.DuplicateRecorded:
		e.Kind = &evlog.Event_DuplicateRecorded{DuplicateRecorded: k}
	case *evlog.SievePruned:
		e.Kind = &evlog.Event_SievePruned{SievePruned: k}
	case *evlog.ForwardingSet:
		e.Kind = &evlog.Event_ForwardingSet{ForwardingSet: k}
	case *evlog.SrsKeyAdded:
		e.Kind = &evlog.Event_SrsKeyAdded{SrsKeyAdded: k}
	default:
		panic("sieveEv: unknown kind")
	}
	return e
}

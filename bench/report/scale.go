package report

import (
	"fmt"
	"io"

	"github.com/surat-mail/surat/bench/scale"
)

// WriteScale writes scale.md from bench/cmd/scale's records: per user
// count the ingest rate and the nodes' memory and disk, then the snapshot
// recovery.
func WriteScale(w io.Writer, recs []scale.Record, m Machine) {
	fmt.Fprintln(w, "# Surat: how cost grows")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written by `make bench-scale` (`bench/cmd/scale`, then `bench/cmd/report`; see bench/README.md).")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Machine: %d cores (%s), %.0f GiB RAM, Debian %s, Linux %s; Surat built from %s; load average %s when the report was written.\n",
		m.Cores, orDash(m.CPU), float64(m.MemBytes)/(1<<30), orDash(m.Debian), orDash(m.Kernel), m.Commit, orDash(m.Load))
	var users, snaps []scale.Record
	for _, r := range recs {
		switch {
		case r.Kind == "users" && r.Users != nil:
			users = append(users, r)
		case r.Kind == "snapshot" && r.Snap != nil:
			snaps = append(snaps, r)
		}
	}
	if len(users) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## Ingest, memory and disk by number of users")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A fresh three-node cluster (real processes) per row. Users are created through the admin API with a pre-hashed cheap argon2id (`password_hash`, as `surat user add --password-hash`), then SMTP deliveries go to user n mod users, over every node's MX. Memory and disk are the median node's: RSS, the Go heap's live estimate, the Pebble store (`DATA/state`) and the Raft directory (log, stable store, snapshots: `DATA/raft`), after the users were created and after the mail.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| users | created/s | msgs | senders | msgs/s | p50 / p99 ms | retries / errors | RSS MiB (users → mail) | live heap MiB | Pebble MB | Raft MB | load |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, r := range users {
			u := r.Users
			s := u.SMTP
			med := func(nodes []scale.NodeUsage, f func(scale.NodeUsage) float64) float64 {
				var v []float64
				for _, n := range nodes {
					v = append(v, f(n))
				}
				return statOf(v).Median
			}
			rss := func(n scale.NodeUsage) float64 { return float64(n.RSS) / (1 << 20) }
			heap := func(n scale.NodeUsage) float64 { return n.HeapLive / (1 << 20) }
			peb := func(n scale.NodeUsage) float64 { return float64(n.PebbleBytes) / 1e6 }
			raft := func(n scale.NodeUsage) float64 { return float64(n.RaftBytes) / 1e6 }
			fmt.Fprintf(w, "| %s | %.0f | %d | %d | %.0f | %.1f / %.1f | %d / %d | %.0f → %.0f | %.0f → %.0f | %.1f → %.1f | %.1f → %.1f | %.2f |\n",
				thousands(u.Users), u.CreatePerS, s.Accepted, s.Senders, s.AcceptedPerS, s.P50Ms, s.P99Ms, s.Retries, s.Errors,
				med(u.AfterUsers, rss), med(u.AfterMail, rss), med(u.AfterUsers, heap), med(u.AfterMail, heap),
				med(u.AfterUsers, peb), med(u.AfterMail, peb), med(u.AfterUsers, raft), med(u.AfterMail, raft), r.Load1)
		}
	}
	for _, r := range snaps {
		s := r.Snap
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## Recovery from a snapshot")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "An in-process three-node cluster (the real `cluster` and `mailbox` code: Raft with raft-boltdb and an fsync per append, Pebble projections, the TLS transport on loopback) is filled with %s messages of %d bytes (headers included; a BlobStored and a Delivered each, as the SMTP server proposes them) over %s users. The leader then takes a Raft snapshot, which truncates its log to the last 8 entries; follower %s is stopped, its data wiped, and started again empty, so Raft can only catch it up by streaming the snapshot.\n\n",
			thousands(s.Messages), s.BodySize, thousands(s.Users), s.RecoveredNode)
		fmt.Fprintln(w, "| measurement | value |")
		fmt.Fprintln(w, "|---|---:|")
		fmt.Fprintf(w, "| building the store (3 nodes apply everything) | %.0f s, %.0f msgs/s |\n", s.BuildS, s.BuildPerS)
		fmt.Fprintf(w, "| leader's Pebble store | %.0f MB |\n", float64(s.StoreBytes)/1e6)
		fmt.Fprintf(w, "| Raft snapshot (what is streamed) | %.0f MB, taken in %.1f s |\n", float64(s.SnapshotBytes)/1e6, s.SnapshotS)
		fmt.Fprintf(w, "| **wiped node started → same digest as the leader** | **%.1f s** (snapshot restores: %.0f) |\n", s.RecoverS, s.Restores)
		fmt.Fprintf(w, "| recovered node's Pebble store | %.0f MB |\n", float64(s.RecoveredStore)/1e6)
		fmt.Fprintf(w, "| one-minute load at the start | %.2f |\n", r.Load1)
	}
}

package imap

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// collectingProposer runs a blob collection right after an APPEND's first
// chunk is committed, naming that chunk's body: as the collector on the
// leader does when, under load, the log has moved past the first chunks
// while the rest of the message is still arriving.
type collectingProposer struct {
	t    *testing.T
	node *testNode
	once sync.Once
}

func (p *collectingProposer) Propose(ctx context.Context, data []byte) ([]byte, error) {
	res, err := p.node.Node.Propose(ctx, data)
	if err != nil {
		return res, err
	}
	b, derr := evlog.DecodeBatch(data)
	if derr != nil || len(b.GetEvents()) != 1 || b.GetEvents()[0].GetBlobStored() == nil {
		return res, err
	}
	hash := b.GetEvents()[0].GetBlobStored().GetHash()
	p.once.Do(func() {
		st := p.node.Store
		past := st.AppliedIndex() + 1 // everything so far is "old"
		now := time.Now().Unix()
		if _, cerr := propose.Submit(ctx, p.node.Node, &evlog.Event{Kind: &evlog.Event_BlobsCollected{
			BlobsCollected: &evlog.BlobsCollected{Hashes: [][]byte{hash}, TouchedBefore: past, NowUnix: now}}}); cerr != nil {
			p.t.Errorf("collection: %v", cerr)
		}
	})
	return res, err
}

// TestAppendPinnedAgainstCollection: a blob collection that runs between
// a large APPEND's chunks does not take them (they are pinned until the
// Appended commits), so the message is stored whole. Unpinned, the
// collection deleted the first chunk and the APPEND failed.
func TestAppendPinnedAgainstCollection(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	cp := &collectingProposer{t: t, node: n}
	_, addr, _ := c.serve(t, n, func(cfg *Config) { cfg.Proposer = cp })
	user := c.NewUser(t, "pinned", password)
	cl, _ := dial(t, addr, user)
	body := msg("pinned append", strings.Repeat("a line of a large message\r\n", (3<<20)/28))
	if len(evlog.Chunks(body)) < 3 {
		t.Fatalf("the message needs several chunks")
	}
	d := appendMsg(t, cl, "INBOX", body)
	mustSelect(t, cl, "INBOX")
	var set imap.UIDSet
	set.AddNum(d.UID)
	got := fetchAll(t, cl, set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(got) != 1 || len(got[0].BodySection) != 1 || !bytes.Equal(got[0].BodySection[0].Bytes, body) {
		t.Fatal("the appended message is not stored whole")
	}
}

package admin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
)

// reasonNode is a fakeNode that says why it is not ready, as
// *cluster.Node does.
type reasonNode struct {
	*fakeNode
	reason string
}

func (r reasonNode) NotReadyReason() string { return r.reason }

func TestReadyzSaysWhy(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{"low disk space", "low disk space: 1048576 bytes free on /data/raft, below the minimum of 268435456 (--min-free-space)",
			"not ready: low disk space: 1048576 bytes free"},
		{"no reason given", "", "not ready: no known leader or log not yet applied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.ready = false
			reg := prometheus.NewRegistry()
			s, err := New(Config{Directory: f, Digester: f, Cluster: reasonNode{f, tc.reason}, Gatherer: reg, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			rec := do(t, s, call{method: "GET", path: "/readyz"})
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("GET /readyz: %d", rec.Code)
			}
			if got := errorOf(t, rec); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("GET /readyz says %q, want %q...", got, tc.want)
			}
		})
	}
}

func TestProposeLowStorage(t *testing.T) {
	f := newFake()
	f.proposeErr = fmt.Errorf("forward: %w: the leader is low on disk space", cluster.ErrInsufficientStorage)
	s := newTestServer(t, f, "tok")
	rec := do(t, s, call{method: "POST", path: "/v1/users", token: "tok", body: `{"address":"a@example.test","password":"pw"}`})
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/users on a node low on disk: %d", rec.Code)
	}
	if got := errorOf(t, rec); !strings.Contains(got, "insufficient disk space") {
		t.Fatalf("error %q does not say the disk is low", got)
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/admin"
)

// TestDomainsReplicated: the --domain every node seeds at start is added
// once, with one set of keys that every node holds (the records each
// node prints agree, and so do the digests); a domain added through one
// node is listed and printed alike by another, and its deletion too.
func TestDomainsReplicated(t *testing.T) {
	nodes := startServeCluster(t, 3, "--hostname", "mx.example.test")
	ctx := context.Background()
	clients := make([]*admin.Client, len(nodes))
	for i, n := range nodes {
		c, err := admin.NewClient(n.url(), "", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	records := func(c *admin.Client, d string) string {
		rr, err := c.DomainRecords(ctx, d, false)
		if err != nil {
			return "error: " + err.Error()
		}
		var lines []string
		for _, r := range rr.Records {
			lines = append(lines, r.Line)
		}
		return strings.Join(lines, "\n")
	}
	sameEverywhere := func(what, d string) string {
		var first string
		waitUntil(t, what, func() bool {
			first = records(clients[0], d)
			if !strings.Contains(first, "._domainkey."+d+". 3600 IN TXT") {
				return false
			}
			for _, c := range clients[1:] {
				if records(c, d) != first {
					return false
				}
			}
			return true
		})
		return first
	}
	seeded := sameEverywhere("example.test seeded with the same keys on every node", "example.test")
	if n := strings.Count(seeded, "._domainkey.example.test."); n != 2 {
		t.Fatalf("%d DKIM records for the seeded domain:\n%s", n, seeded)
	}
	if r := runCLI(t, nil, "", "domain", "add", "added.test", "--server", nodes[1].url()); r.code != 0 {
		t.Fatalf("domain add through n2: %+v", r)
	}
	sameEverywhere("added.test with the same keys on every node", "added.test")
	waitUntil(t, "equal digests at equal indexes", func() bool {
		var first admin.DigestResponse
		for i, c := range clients {
			d, err := c.Digest(ctx)
			if err != nil || i > 0 && d != first {
				return false
			}
			first = d
		}
		return true
	})
	if r := runCLI(t, nil, "", "domain", "del", "added.test", "--server", nodes[2].url()); r.code != 0 {
		t.Fatalf("domain del through n3: %+v", r)
	}
	waitUntil(t, "added.test gone from n1's list", func() bool {
		r := runCLI(t, nil, "", "domain", "list", "--server", nodes[0].url())
		return r.code == 0 && r.stdout == "example.test\n"
	})

	// MTA-STS: no policy until the setting turns it on, then every node
	// serves it for Host mta-sts.example.test.
	policy := func(n *serveNode) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, n.url()+"/.well-known/mta-sts.txt", nil)
		req.Host = "mta-sts.example.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := policy(nodes[2]); code != http.StatusNotFound {
		t.Fatalf("a policy before MTA-STS was turned on: %d", code)
	}
	if r := runCLI(t, nil, "", "domain", "set", "example.test", "--mta-sts=enforce", "--server", nodes[0].url()); r.code != 0 {
		t.Fatalf("domain set --mta-sts=enforce: %+v", r)
	}
	for _, n := range nodes {
		waitUntil(t, n.id+" serving the policy", func() bool {
			code, body := policy(n)
			return code == http.StatusOK && strings.Contains(body, "mode: enforce") && strings.Contains(body, "mx: mx.example.test")
		})
	}
}

package smtpload

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestRunTimedWarmsUpThenTimesTheRest(t *testing.T) {
	srv := startFake(t, 0, 0)
	var corpus [][]byte
	for i := range 8 {
		corpus = append(corpus, fmt.Appendf(nil, "From: <a@x.test>\r\nSubject: m%d\r\n\r\nbody\r\n", i))
	}
	res, serverCPU, err := RunTimed(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 2, Messages: 5,
		From: "a@x.test", To: "b@y.test", Corpus: corpus,
	}, 3, []Server(nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempted != 5 || res.Accepted != 5 || serverCPU != 0 {
		t.Fatalf("timed part: attempted %d, accepted %d, server CPU %v; want 5, 5, 0", res.Attempted, res.Accepted, serverCPU)
	}
	seen := map[string]int{}
	srv.data.Range(func(_, v any) bool {
		_, rest, _ := strings.Cut(v.(string), "Subject: ")
		subject, _, _ := strings.Cut(rest, "\r\n")
		seen[subject]++
		return true
	})
	for i := range 8 {
		if seen[fmt.Sprintf("m%d", i)] != 1 {
			t.Errorf("each corpus message should be sent once (3 warm-up, 5 timed): %v", seen)
			break
		}
	}
}

func TestRunTimedRefusals(t *testing.T) {
	corpus := [][]byte{[]byte("Subject: x\r\n\r\nbody\r\n")}
	cfg := Config{Senders: 1, Messages: 4, From: "a@x.test", To: "b@y.test"}

	cfg.Addrs, cfg.Corpus = []string{startFake(t, 2, 0).ln.Addr().String()}, append(corpus, corpus...)
	if _, _, err := RunTimed(context.Background(), cfg, 2, []Server(nil)); err == nil || !strings.Contains(err.Error(), "warm-up") {
		t.Errorf("a refusal in the warm-up: %v", err)
	}
	cfg.Addrs, cfg.Corpus = []string{startFake(t, 4, 0).ln.Addr().String()}, corpus
	if res, _, err := RunTimed(context.Background(), cfg, 0, []Server(nil)); err == nil || res == nil || res.Errors != 1 {
		t.Errorf("a refusal in the timed part: %v", err)
	}
	if _, _, err := RunTimed(context.Background(), cfg, 2, []Server(nil)); err == nil {
		t.Error("a warm-up longer than the corpus")
	}
}

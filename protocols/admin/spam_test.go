package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// storeSpam is what cmd/surat wires: the bayes tokenizer and the store's
// models.
type storeSpam struct{ st *mailbox.Store }

func (s storeSpam) TrainEvent(user string, spam bool, msg []byte) (*evlog.Event, error) {
	tokens, err := bayes.Tokenize(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	return bayes.TrainEvent(user, spam, false, tokens, time.Unix(1700000000, 0)), nil
}

func model(m mailbox.SpamModelStatus) SpamModel {
	return SpamModel{User: m.User, Spam: m.Spam, Ham: m.Ham, Tokens: m.Tokens, Bytes: m.Bytes}
}

func (s storeSpam) SpamStatus(user string) (SpamModel, error) {
	m, err := s.st.SpamStatus(user)
	return model(m), err
}

func (s storeSpam) SpamModels() ([]SpamModel, error) {
	ms, err := s.st.SpamModels()
	var out []SpamModel
	for _, m := range ms {
		out = append(out, model(m))
	}
	return out, err
}

func newSpamServer(t *testing.T) (*Client, http.Handler, *fakeNode) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := &storeNode{fakeNode: newFake(), store: st}
	s, err := New(Config{Directory: n, Digester: n, Cluster: n, Token: "tok", Gatherer: prometheus.NewRegistry(),
		IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }, Spam: storeSpam{st}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, "tok", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, n.fakeNode
}

func TestSpamAPI(t *testing.T) {
	c, h, fake := newSpamServer(t)
	ctx := context.Background()
	spam := [][]byte{[]byte("Subject: cheap pills\r\n\r\nbuy cheap pills now\r\n"), []byte("Subject: win\r\n\r\nclaim your prize\r\n")}
	ham := [][]byte{[]byte("Subject: minutes\r\n\r\nthe meeting notes\r\n")}
	if n, err := c.SpamTrain(ctx, "", true, spam); err != nil || n != 2 {
		t.Fatalf("train spam: %d, %v", n, err)
	}
	if n, err := c.SpamTrain(ctx, "", false, ham); err != nil || n != 1 {
		t.Fatalf("train ham: %d, %v", n, err)
	}
	models, err := c.SpamStatus(ctx, "")
	if err != nil || len(models) != 1 || models[0].User != "" || models[0].Spam != 2 || models[0].Ham != 1 || models[0].Tokens == 0 {
		t.Fatalf("status: %+v, %v", models, err)
	}

	// A user the directory does not know: 404, on train and status.
	var api *APIError
	if _, err := c.SpamTrain(ctx, "nobody@example.test", true, spam); !errors.As(err, &api) || api.Status != http.StatusNotFound {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := c.SpamStatus(ctx, "nobody@example.test"); !errors.As(err, &api) || api.Status != http.StatusNotFound {
		t.Fatalf("unknown user's status: %v", err)
	}
	// Known here but not to the store (deleted meanwhile): apply refuses,
	// still a 404.
	fake.addUser("gone@example.test")
	if _, err := c.SpamTrain(ctx, "gone@example.test", true, spam); !errors.As(err, &api) || api.Status != http.StatusNotFound {
		t.Fatalf("user unknown to apply: %v", err)
	}

	for _, bad := range []struct{ body, want string }{
		{`{"class":"spam"}`, "no messages"},
		{`{"class":"junk","messages":["YQ=="]}`, "bad class"},
		{`{"class":"spam","messages":[""]}`, "message 1 is empty"},
		{`{"class":"spam","messages":["not base64!"]}`, "bad JSON body"},
		{`{"class":"spam","messages":["YQ=="],"extra":1}`, "bad JSON body"},
		{`{"class":"spam","user":"not an address","messages":["YQ=="]}`, ""},
		{`not json`, "bad JSON body"},
	} {
		rec := do(t, h, call{method: "POST", path: "/v1/spam/train", token: "tok", body: bad.body})
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorOf(t, rec), bad.want) {
			t.Errorf("%s: %d %s", bad.body, rec.Code, rec.Body)
		}
	}
	if rec := do(t, h, call{method: "GET", path: "/v1/spam/status"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("status without the token: %d", rec.Code)
	}
}

func TestSpamAPINotConfigured(t *testing.T) {
	s := newTestServer(t, newFake(), "")
	for _, c := range []call{{method: "GET", path: "/v1/spam/status"}, {method: "POST", path: "/v1/spam/train", body: `{}`}} {
		if rec := do(t, s, c); rec.Code != http.StatusNotImplemented {
			t.Errorf("%s %s: %d", c.method, c.path, rec.Code)
		}
	}
}

// The client splits large trainings into requests under the body limit.
func TestSpamTrainBatches(t *testing.T) {
	c, _, _ := newSpamServer(t)
	big := bytes.Repeat([]byte("word "), SpamTrainBatchBytes/5/3)
	msgs := [][]byte{append([]byte("Subject: a\r\n\r\n"), big...), append([]byte("Subject: b\r\n\r\n"), big...),
		append([]byte("Subject: c\r\n\r\n"), big...), append([]byte("Subject: d\r\n\r\n"), big...)}
	if n, err := c.SpamTrain(context.Background(), "", true, msgs); err != nil || n != 4 {
		t.Fatalf("%d, %v", n, err)
	}
}

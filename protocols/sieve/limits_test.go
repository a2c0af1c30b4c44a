package sieve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestStepLimit: a script that does too much work stops with
// ErrTooManySteps (the caller keeps the message).
func TestStepLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`require "fileinto";`)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "if header :contains \"subject\" \"x%d\" { fileinto \"a\"; }\n", i)
	}
	s, err := Compile([]byte(b.String()), Options{Limits: Limits{MaxSteps: 100}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if !errors.Is(err, ErrTooManySteps) {
		t.Fatalf("err %v", err)
	}
	var re *RuntimeError
	if !errors.As(err, &re) || re.Line < 2 {
		t.Fatalf("no line: %v", err)
	}
	// The default bound lets it run.
	s, _ = Compile([]byte(b.String()), Options{})
	if _, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv()); err != nil {
		t.Fatal(err)
	}
}

// TestIncludeExplosion: includes without :once, nested, multiply the
// work; the step bound stops it.
func TestIncludeExplosion(t *testing.T) {
	m := map[string]string{}
	ten := func(next string) string {
		return `require "include";` + strings.Repeat(`include "`+next+`";`, 10)
	}
	m["a"] = ten("b")
	m["b"] = ten("c")
	m["c"] = ten("d")
	m["d"] = `require "fileinto"; if true { fileinto "x"; }` + strings.Repeat(`if header :contains "subject" "y" { keep; }`, 100)
	s, err := Compile([]byte(ten("a")), Options{Include: scripts(m)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if !errors.Is(err, ErrTooManySteps) {
		t.Fatalf("err %v", err)
	}
}

// TestContextCancel: a cancelled context ends a long run.
func TestContextCancel(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteString("if true { }\n")
	}
	s, err := Compile([]byte(b.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Execute(ctx, splitMessage(testMessage), testEnv()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// TestExpansionBound: a string that expands past 64 variable lengths is
// a runtime error rather than a huge allocation.
func TestExpansionBound(t *testing.T) {
	s, err := Compile([]byte(`require ["variables", "fileinto"];
set "a" "0123456789";
set "b" "${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}";
fileinto "${b}${b}${b}${b}${b}${b}${b}${b}${b}${b}";`), Options{Limits: Limits{MaxVariableLen: 10}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatalf("b is truncated to 10, so 100 bytes fit: %v", err)
	}
	s, _ = Compile([]byte(`require ["variables", "fileinto"];
set "a" "0123456789";
fileinto "`+strings.Repeat("${a}", 100)+`";`), Options{Limits: Limits{MaxVariableLen: 10}})
	if _, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv()); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err %v", err)
	}
}

// TestConcurrentExecute: one Script, many goroutines, the same result
// each time (run with -race).
func TestConcurrentExecute(t *testing.T) {
	s, err := Compile([]byte(fuzzScript), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				r, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv())
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(r, first) {
					errs <- fmt.Errorf("result %+v differs from %+v", r, first)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestMatchWorkBounded: a :matches pattern that backtracks over a large
// body, or many keys over it, runs out of steps instead of running for
// minutes.
func TestMatchWorkBounded(t *testing.T) {
	body := strings.Repeat("a", 1<<20)
	msg := Message{
		Header: []byte("Subject: x\r\n\r\n"),
		Body:   func() (io.Reader, error) { return strings.NewReader(body), nil },
	}
	pattern := "*" + strings.Repeat("a", 2000) + "b"
	for _, src := range []string{
		`require "body"; if body :raw :matches "` + pattern + `" { discard; }`,
		`require "body"; if body :raw :contains [` + strings.Repeat(`"zz", `, 300) + `"zz"] { discard; }`,
	} {
		s, err := Compile([]byte(src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Execute(context.Background(), msg, testEnv()); !errors.Is(err, ErrTooManySteps) {
			t.Fatalf("err %v", err)
		}
	}
}

// TestActionLimit: more than MaxActions copies (fileinto + redirect),
// or duplicate ids, is a runtime error.
func TestActionLimit(t *testing.T) {
	for _, src := range []string{
		`require ["fileinto", "variables"];` + strings.Repeat(`set "n" "${n}x"; fileinto "${n}";`, 5),
		`require ["fileinto"]; fileinto "a"; fileinto "b"; redirect "c@x.test"; fileinto "d"; fileinto "e";`,
		`require ["duplicate", "variables"];` + strings.Repeat(`set "n" "${n}x"; if duplicate :handle "${n}" { }`, 5),
	} {
		s, err := Compile([]byte(src), Options{Limits: Limits{MaxActions: 4}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv()); !errors.Is(err, ErrTooManyActions) {
			t.Errorf("%s: %v", src, err)
		}
	}
	// The same mailbox again is no new action.
	s, _ := Compile([]byte(`require "fileinto";`+strings.Repeat(`fileinto "a";`, 50)), Options{Limits: Limits{MaxActions: 1}})
	if _, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv()); err != nil {
		t.Fatal(err)
	}
}

// TestHeaderGrowthLimit: editheader cannot grow the header without
// bound.
func TestHeaderGrowthLimit(t *testing.T) {
	src := `require ["editheader", "variables"]; set "v" "` + strings.Repeat("x", 1000) + `";` + strings.Repeat(`addheader "X-Big" "${v}";`, 10)
	s, err := Compile([]byte(src), Options{Limits: Limits{MaxHeaderGrowth: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv()); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("err %v", err)
	}
}

// TestLogBounded: Result.Log stays short enough for a log line.
func TestLogBounded(t *testing.T) {
	r := run(t, `require ["editheader"];`+strings.Repeat(`addheader "X-A" "b"; deleteheader "X-A";`, 100))
	if len(r.Log) != maxLog+1 || r.Log[maxLog] != "..." {
		t.Fatalf("log of %d entries", len(r.Log))
	}
}

package faults

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// never is the return time of a hand-written operation whose outcome is
// unknown: after everything else.
const never = 1 << 40

func appendOp(client int, call, ret int64, uid uint32, flags ...string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input:    LinInput{Kind: OpAppend, UID: uid, Flags: FlagSetOf(flags)},
		Output:   LinOutput{Unknown: ret == never},
		Metadata: OpMeta{Client: client}}
}

func storeOp(client int, call, ret int64, uid uint32, mode StoreMode, flags ...string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input:    LinInput{Kind: OpStore, UID: uid, Mode: mode, Flags: FlagSetOf(flags)},
		Output:   LinOutput{Unknown: ret == never},
		Metadata: OpMeta{Client: client}}
}

func fetchOp(client int, call, ret int64, uid uint32, flags ...string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input:    LinInput{Kind: OpFetch, UID: uid},
		Output:   LinOutput{Found: true, Flags: FlagSetOf(flags)},
		Metadata: OpMeta{Client: client, Fenced: true}}
}

func fetchAbsentOp(client int, call, ret int64, uid uint32) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input:    LinInput{Kind: OpFetch, UID: uid},
		Output:   LinOutput{},
		Metadata: OpMeta{Client: client, Fenced: true}}
}

func searchOp(client int, call, ret int64, uids ...uint32) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input:    LinInput{Kind: OpSearch},
		Output:   LinOutput{UIDs: uids},
		Metadata: OpMeta{Client: client, Fenced: true}}
}

// TestMailboxModel feeds hand-made histories to the checker: the
// linearizable ones must pass and the others must be rejected, so the
// check can fail.
func TestMailboxModel(t *testing.T) {
	tests := []struct {
		name         string
		linearizable bool
		ops          []porcupine.Operation
	}{
		{"sequential append, store, fetch, search", true, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			storeOp(0, 20, 30, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 40, 50, 1, `\Flagged`),
			searchOp(1, 60, 70, 1),
		}},
		{"concurrent appends may get UIDs in either order", true, []porcupine.Operation{
			appendOp(0, 0, 30, 2),
			appendOp(1, 10, 40, 1),
			searchOp(2, 50, 60, 1, 2),
		}},
		{"a read concurrent with a store sees either state", true, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, 30, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 12, 20, 1),
			fetchOp(2, 25, 40, 1, `\Flagged`),
		}},
		{"a store with unknown outcome may never happen", true, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, never, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 20, 30, 1),
			fetchOp(1, 40, 50, 1),
		}},
		{"a store with unknown outcome may happen late", true, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, never, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 20, 30, 1),
			fetchOp(1, 40, 50, 1, `\Flagged`),
		}},
		{"an append with unknown outcome shows up later", true, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			appendOp(0, 10, never, 2, `$LinA`),
			searchOp(1, 20, 30, 1),
			searchOp(1, 40, 50, 1, 2),
			fetchOp(1, 60, 70, 2, `$LinA`),
		}},
		{"replace and remove", true, []porcupine.Operation{
			appendOp(0, 0, 5, 7, `\Draft`),
			storeOp(0, 10, 20, 7, StoreReplace, `$LinA`, `$LinB`),
			storeOp(0, 30, 40, 7, StoreRemove, `$LinA`),
			fetchOp(1, 50, 60, 7, `$LinB`, `\Recent`),
		}},
		{"UIDs need not be dense", true, []porcupine.Operation{
			appendOp(0, 0, 5, 3),
			appendOp(0, 10, 20, 9),
			searchOp(1, 30, 40, 3, 9),
		}},

		{"a smaller UID after a completed append", false, []porcupine.Operation{
			appendOp(0, 0, 10, 5),
			appendOp(1, 20, 30, 3),
		}},
		{"the same UID assigned twice", false, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			appendOp(1, 5, 30, 1),
		}},
		{"an acknowledged store lost", false, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, 20, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 30, 40, 1),
		}},
		{"a flag seen, then gone without a remove", false, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, never, 1, StoreAdd, `\Flagged`),
			fetchOp(1, 20, 30, 1, `\Flagged`),
			fetchOp(2, 40, 50, 1),
		}},
		{"a search misses a completed append", false, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			searchOp(1, 20, 30),
		}},
		{"a search shows a UID never appended", false, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			searchOp(1, 20, 30, 1, 2),
		}},
		{"a flag the workload never sets", false, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			fetchOp(1, 20, 30, 1, `\Seen`),
		}},
		{"an appended message absent", false, []porcupine.Operation{
			appendOp(0, 0, 10, 1),
			fetchAbsentOp(1, 20, 30, 1),
		}},
		{"stale read across clients", false, []porcupine.Operation{
			appendOp(0, 0, 5, 1),
			storeOp(0, 10, 20, 1, StoreReplace, `$LinA`),
			fetchOp(1, 30, 40, 1, `$LinA`),
			storeOp(0, 50, 60, 1, StoreReplace, `$LinB`),
			fetchOp(1, 70, 80, 1, `$LinA`),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := CheckLinearizable(tt.ops, 10*time.Second, dir, "history")
			if err != nil {
				t.Fatal(err)
			}
			want := porcupine.Ok
			if !tt.linearizable {
				want = porcupine.Illegal
			}
			if res.Result != want {
				t.Fatalf("check: %s, want %s", res.Result, want)
			}
			if tt.linearizable {
				if res.Visualization != "" {
					t.Errorf("visualisation written for a linearizable history: %s", res.Visualization)
				}
				return
			}
			if res.Visualization == "" {
				t.Fatal("no visualisation written for an illegal history")
			}
			if b, err := os.ReadFile(res.Visualization); err != nil || !strings.Contains(string(b), "<html") {
				t.Errorf("visualisation %s: %v (%d bytes)", res.Visualization, err, len(b))
			}
		})
	}
}

func TestPrepare(t *testing.T) {
	withID := func(op porcupine.Operation, id string) porcupine.Operation {
		m := op.Metadata.(OpMeta)
		m.MessageID = id
		op.Metadata = m
		return op
	}
	unfenced := fetchOp(1, 50, 60, 1)
	unfenced.Metadata = OpMeta{Client: 1}
	raw := []porcupine.Operation{
		withID(appendOp(0, 0, 10, 1), "<a>"),
		withID(appendOp(0, 20, 25, 0), "<lost>"), // unknown, never happened
		withID(appendOp(1, 20, 30, 0), "<late>"), // unknown, happened
		withID(appendOp(2, 20, 30, 4), "<gone>"), // acknowledged, missing
		withID(appendOp(2, 40, 45, 5), "<moved>"),
		unfenced,
	}
	for _, i := range []int{1, 2} {
		raw[i].Output = LinOutput{Unknown: true}
	}
	final := []FinalMessage{
		{UID: 1, MessageID: "<a>", Flags: []string{`\Flagged`}},
		{UID: 3, MessageID: "<late>"},
		{UID: 6, MessageID: "<moved>"},
	}
	p := Prepare(raw, PrepareOptions{Final: final, FinalClient: 3})
	if p.UnknownAppendsFound != 1 || p.UnknownAppendsDropped != 1 {
		t.Errorf("unknown appends found/dropped = %d/%d, want 1/1", p.UnknownAppendsFound, p.UnknownAppendsDropped)
	}
	wantProblems := []string{"<gone> (APPENDUID 4", "<moved> answered APPENDUID 5 but the message has UID 6"}
	if len(p.Problems) != len(wantProblems) {
		t.Fatalf("problems = %q, want %d", p.Problems, len(wantProblems))
	}
	for i, w := range wantProblems {
		if !strings.Contains(p.Problems[i], w) {
			t.Errorf("problem %d = %q, want it to mention %q", i, p.Problems[i], w)
		}
	}
	var appends, finals, unknownOpen int
	var end int64
	for _, op := range p.Ops {
		in, out, meta := op.Input.(LinInput), op.Output.(LinOutput), op.Metadata.(OpMeta)
		if in.Kind == OpFetch && !meta.Fenced && !meta.Final {
			t.Errorf("unfenced read kept: %+v", op)
		}
		if in.Kind == OpAppend {
			appends++
			if meta.MessageID == "<late>" && in.UID != 3 {
				t.Errorf("unknown APPEND <late> resolved to UID %d, want 3", in.UID)
			}
		}
		if meta.Final {
			finals++
			end = max(end, op.Return)
		}
		if out.Unknown {
			unknownOpen++
		}
	}
	if appends != 4 || finals != 1+len(final) || unknownOpen != 1 {
		t.Errorf("appends/final reads/unknown = %d/%d/%d, want 4/%d/1", appends, finals, unknownOpen, 1+len(final))
	}
	for _, op := range p.Ops {
		if op.Output.(LinOutput).Unknown && op.Return <= end {
			t.Errorf("unknown outcome not open past the final reads: return %d, final reads end %d", op.Return, end)
		}
	}
	// The acknowledged APPEND missing from the final state also makes the
	// history illegal: the final search does not have UID 4.
	res, err := CheckLinearizable(p.Ops, 10*time.Second, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != porcupine.Illegal {
		t.Errorf("check: %s, want Illegal", res.Result)
	}

	dup := Prepare(nil, PrepareOptions{Final: []FinalMessage{{UID: 1, MessageID: "<x>"}, {UID: 2, MessageID: "<x>"}}})
	if len(dup.Problems) != 1 || !strings.Contains(dup.Problems[0], "present twice") {
		t.Errorf("duplicate Message-ID: problems %q", dup.Problems)
	}
}

func TestFlagSetOf(t *testing.T) {
	tests := []struct {
		flags []string
		want  []string
	}{
		{nil, nil},
		{[]string{`\flagged`, `$lina`}, []string{`\Flagged`, `$LinA`}},
		{[]string{`\Recent`, `\Draft`}, []string{`\Draft`}},
		{[]string{`\Seen`}, []string{"(other)"}},
	}
	for _, tt := range tests {
		got := FlagSetOf(tt.flags).Names()
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("FlagSetOf(%q) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}

package acl

import (
	"errors"
	"slices"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	tests := []struct {
		in, str, format string
		err             bool
	}{
		{in: "", str: "", format: ""},
		{in: "lrs", str: "lrs", format: "lrs"},
		{in: "srl", str: "lrs", format: "lrs"},
		{in: "lrswipkxtea", str: "lrswipkxtea", format: "lrswipkxteacd"},
		{in: "aetxkpiwsrl", str: "lrswipkxtea", format: "lrswipkxteacd"},
		{in: "llrr", str: "lr", format: "lr"},
		// RFC 4314 §2.1.1: c is k; d is x, t and e.
		{in: "c", str: "k", format: "kc"},
		{in: "d", str: "xte", format: "xted"},
		{in: "xt", str: "xt", format: "xt"},
		{in: "lrz", err: true},
		{in: "L", err: true},
		{in: "0", err: true},
		{in: "+l", err: true},
	}
	for _, tc := range tests {
		r, err := Parse(tc.in)
		if tc.err {
			if !errors.Is(err, ErrUnknownRight) {
				t.Errorf("Parse(%q) = %v, %v; want ErrUnknownRight", tc.in, r, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.str || r.Format() != tc.format {
			t.Errorf("Parse(%q) = %q (format %q), want %q (%q)", tc.in, r, r.Format(), tc.str, tc.format)
		}
	}
}

func TestModify(t *testing.T) {
	lrs, _ := Parse("lrs")
	tests := []struct {
		cur  Rights
		mod  string
		want string
		err  bool
	}{
		{lrs, "lr", "lr", false},
		{lrs, "+w", "lrsw", false},
		{lrs, "-s", "lr", false},
		{lrs, "-lrs", "", false},
		{lrs, "", "", false},
		{lrs, "+", "lrs", false},
		{lrs, "-", "lrs", false},
		{lrs, "+c", "lrsk", false},
		{All, "-d", "lrswipka", false},
		{lrs, "+q", "lrs", true},
		{lrs, "++l", "lrs", true},
	}
	for _, tc := range tests {
		got, err := Modify(tc.cur, tc.mod)
		if (err != nil) != tc.err || got.String() != tc.want {
			t.Errorf("Modify(%q, %q) = %q, %v; want %q (error %v)", tc.cur, tc.mod, got, err, tc.want, tc.err)
		}
	}
}

func TestFlagRights(t *testing.T) {
	// RFC 4314 §4: \Seen needs s, \Deleted t, anything else w.
	for flag, want := range map[string]Rights{`\Seen`: Seen, `\seen`: Seen, `\Deleted`: DeleteMessage,
		`\Flagged`: Write, `\Answered`: Write, `$Label1`: Write} {
		if got := FlagRight(flag); got != want {
			t.Errorf("FlagRight(%q) = %q, want %q", flag, got, want)
		}
	}
	flags := []string{`\Seen`, `\Deleted`, `\Flagged`, "work"}
	if got := AllowedFlags(Post, flags); len(got) != 0 {
		t.Errorf("p only keeps %q, want none", got)
	}
	if got := AllowedFlags(Post|Seen, flags); !slices.Equal(got, []string{`\Seen`}) {
		t.Errorf("ps keeps %q", got)
	}
	if got := AllowedFlags(All, flags); !slices.Equal(got, flags) {
		t.Errorf("all rights keep %q", got)
	}
}

func FuzzModify(f *testing.F) {
	for _, s := range []string{"", "lrs", "+w", "-cd", "lrswipkxteacd", "+\xff", "-"} {
		f.Add(uint16(0), s)
		f.Add(uint16(All), s)
	}
	f.Fuzz(func(t *testing.T, cur uint16, mod string) {
		c := Rights(cur) & All
		got, err := Modify(c, mod)
		if err != nil {
			if got != c {
				t.Fatalf("Modify(%q, %q) failed but changed the rights to %q", c, mod, got)
			}
			return
		}
		if got&^All != 0 {
			t.Fatalf("Modify(%q, %q) = %b: bits outside All", c, mod, got)
		}
		back, err := Parse(got.String())
		if err != nil || back != got {
			t.Fatalf("String %q of Modify(%q, %q) parses to %q, %v", got, c, mod, back, err)
		}
		back, err = Parse(got.Format())
		if err != nil || back != got {
			t.Fatalf("Format %q of Modify(%q, %q) parses to %q, %v", got.Format(), c, mod, back, err)
		}
	})
}

func TestWritable(t *testing.T) {
	for s, want := range map[string]bool{"lr": false, "lrs": true, "lrw": true, "lri": true, "lrt": true, "lre": true, "lrpkxa": false} {
		r, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if r.Writable() != want {
			t.Errorf("%q Writable = %v", s, !want)
		}
	}
}

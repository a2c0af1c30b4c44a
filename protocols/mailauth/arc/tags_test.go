package arc

import (
	"reflect"
	"testing"
)

// TestParseTags covers the tag-list grammar of RFC 6376 §3.2.
func TestParseTags(t *testing.T) {
	cases := []struct {
		in      string
		want    map[string]string // nil: an error is expected
		inOrder []string
	}{
		{"a=1; b=2", map[string]string{"a": "1", "b": "2"}, []string{"a", "b"}},
		{"a=1;b=2;", map[string]string{"a": "1", "b": "2"}, []string{"a", "b"}},               // trailing ";" allowed
		{" a = 1 ;\r\n\tb=2 3 ", map[string]string{"a": "1", "b": "2 3"}, []string{"a", "b"}}, // FWS around everything
		{"v=DKIM1; p=", map[string]string{"v": "DKIM1", "p": ""}, []string{"v", "p"}},         // empty value
		{"bh=abc\r\n def=", map[string]string{"bh": "abc\r\n def="}, []string{"bh"}},          // '=' inside a value
		{"x_1=a", map[string]string{"x_1": "a"}, []string{"x_1"}},
		{"", nil, nil},
		{";", nil, nil},
		{"a=1;;b=2", nil, nil}, // empty tag-spec in the middle
		{"a=1; a=2", nil, nil}, // duplicate: the whole list is invalid
		{"a", nil, nil},        // no '='
		{"1a=x", nil, nil},     // tag-name starts with ALPHA
		{"a-b=x", nil, nil},    // ALNUMPUNC has no '-'
		{"=x", nil, nil},       // no name
		{"a=1; ; ", nil, nil},  // empty spec then trailing
		{"A=1; a=2", map[string]string{"A": "1", "a": "2"}, []string{"A", "a"}}, // names are case-sensitive
	}
	for _, tc := range cases {
		tags, err := parseTags(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseTags(%q) = %v, want an error", tc.in, tags)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseTags(%q): %v", tc.in, err)
			continue
		}
		got := map[string]string{}
		var order []string
		for _, tg := range tags {
			got[tg.name] = tg.value
			order = append(order, tg.name)
		}
		if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(order, tc.inOrder) {
			t.Errorf("parseTags(%q) = %v %v, want %v %v", tc.in, got, order, tc.want, tc.inOrder)
		}
	}
}

// TestTagValueSpan checks the span used to blank b= (RFC 6376 §3.5): all
// of the value, the white space around it included, and nothing else.
func TestTagValueSpan(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a=1; b= abc ; bh=x", "a=1; b=; bh=x"},
		{"a=1; b=ab\r\n\tcd", "a=1; b="},
		{"b=;a=1", "b=;a=1"},
	}
	for _, tc := range cases {
		tags, err := parseTags(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := tags.find("b")
		if !ok {
			t.Fatalf("%q: no b", tc.in)
		}
		if got := tc.in[:b.start] + tc.in[b.end:]; got != tc.want {
			t.Errorf("%q without b's value = %q, want %q", tc.in, got, tc.want)
		}
	}
}

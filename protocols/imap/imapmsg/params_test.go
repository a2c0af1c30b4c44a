package imapmsg

import (
	"reflect"
	"testing"
)

func TestContentParams(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Param
	}{
		{`text/plain; charset="utf-8"; format=flowed`, []Param{{"charset", "utf-8"}, {"format", "flowed"}}},
		{`text/plain;CHARSET=UTF-8 (comment); x="a;b"`, []Param{{"charset", "UTF-8"}, {"x", "a;b"}}},
		{`text/plain; junk; name=a=b/c; ;; e=""`, []Param{{"name", "a=b/c"}, {"e", ""}}},
		// RFC 2231 §3: continuations joined in the place of the first.
		{`application/x; a=1; name*1="b c"; name*0="a "; z=2`, []Param{{"a", "1"}, {"name", "a b c"}, {"z", "2"}}},
		// RFC 2231 §4.1: an encoded first section makes the whole "name*".
		{`application/x; filename*0*=utf-8''%C3%A9t%C3%A9; filename*1=" x.txt"`, []Param{{"filename*", "utf-8''%C3%A9t%C3%A9%20x.txt"}}},
		{`application/x; filename*=utf-8''%C3%A9`, []Param{{"filename*", "utf-8''%C3%A9"}}},
		{`application/x; a*b=1; a*12345=2`, []Param{{"a*b", "1"}, {"a*12345", "2"}}},
	} {
		cv := contentValue{s: c.in}
		cv.token()
		cv.is('/')
		cv.token()
		if got := cv.params(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

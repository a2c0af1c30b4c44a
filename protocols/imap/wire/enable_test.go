package wire

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadEnable(t *testing.T) {
	d := begin(t, "a ENABLE condstore QRESYNC X-FOO\r\n")
	caps, err := d.ReadEnable()
	if err != nil || !reflect.DeepEqual(caps, []string{"CONDSTORE", "QRESYNC", "X-FOO"}) {
		t.Errorf("got %v %v", caps, err)
	}
	for _, line := range []string{"a ENABLE\r\n", "a ENABLE \r\n", "a ENABLE (X)\r\n"} {
		d := begin(t, line)
		if got, err := d.ReadEnable(); err == nil {
			t.Errorf("%q: accepted as %v", line, got)
		}
	}
}

func TestReadID(t *testing.T) {
	d := begin(t, "a ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL \"x\" {2}\r\nab)\r\n")
	f, err := d.ReadID()
	want := []IDField{{"name", "sodr", true}, {"version", "19.34", true}, {"vendor", "", false}, {"x", "ab", true}}
	if err != nil || !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v %v", f, err)
	}
	d = begin(t, "a ID NIL\r\n")
	if f, err := d.ReadID(); err != nil || f != nil {
		t.Errorf("NIL: %+v %v", f, err)
	}
	many := "a ID (" + strings.Repeat(`"k" "v" `, 31) + "\"k\" \"v\")\r\n"
	for _, line := range []string{
		"a ID\r\n", "a ID ()x\r\n", "a ID (\"name\")\r\n", "a ID (name \"x\")\r\n", many,
		"a ID (\"" + strings.Repeat("n", 31) + "\" NIL)\r\n",
		"a ID (\"n\" \"" + strings.Repeat("v", 1025) + "\")\r\n",
	} {
		d := begin(t, line)
		if got, err := d.ReadID(); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
}

func FuzzReadEnableID(f *testing.F) {
	f.Add("(\"name\" \"x\" \"os\" NIL)", true)
	f.Add("CONDSTORE UTF8=ACCEPT", false)
	f.Fuzz(func(t *testing.T, args string, id bool) {
		name := "ENABLE "
		if id {
			name = "ID "
		}
		d := newTestDecoder("a " + name + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		if id {
			_, _ = d.ReadID()
		} else {
			_, _ = d.ReadEnable()
		}
		_ = d.Discard()
	})
}

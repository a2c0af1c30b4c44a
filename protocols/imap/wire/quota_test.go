package wire

import (
	"reflect"
	"testing"
)

func TestReadQuota(t *testing.T) {
	d := begin(t, "a GETQUOTA \"\"\r\n")
	if r, err := d.ReadQuotaRoot(); err != nil || r != "" {
		t.Errorf("GETQUOTA: %q %v", r, err)
	}
	d = begin(t, "a GETQUOTAROOT inbox\r\n")
	if m, err := d.ReadMailboxArg(); err != nil || m != "INBOX" {
		t.Errorf("GETQUOTAROOT: %q %v", m, err)
	}
	d = begin(t, "a SETQUOTA \"\" (storage 512 MESSAGE 1000)\r\n")
	root, res, err := d.ReadSetQuota()
	if err != nil || root != "" || !reflect.DeepEqual(res, []QuotaResource{{"STORAGE", 512}, {"MESSAGE", 1000}}) {
		t.Errorf("SETQUOTA: %q %v %v", root, res, err)
	}
	d = begin(t, "a SETQUOTA x ()\r\n")
	if _, res, err := d.ReadSetQuota(); err != nil || len(res) != 0 {
		t.Errorf("SETQUOTA (): %v %v", res, err)
	}
	for _, line := range []string{"a SETQUOTA x (STORAGE)\r\n", "a SETQUOTA x STORAGE 1\r\n", "a SETQUOTA x (STORAGE -1)\r\n", "a GETQUOTA\r\n", "a GETQUOTA a b\r\n"} {
		d := begin(t, line)
		var err error
		if line[2:10] == "SETQUOTA" {
			_, _, err = d.ReadSetQuota()
		} else {
			_, err = d.ReadQuotaRoot()
		}
		if err == nil {
			t.Errorf("%q accepted", line)
		}
	}
}

func FuzzReadQuota(f *testing.F) {
	f.Add("\"\" (STORAGE 1 MESSAGE 2)")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a SETQUOTA " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _, _ = d.ReadSetQuota()
		_ = d.Discard()
	})
}

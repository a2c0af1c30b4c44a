package srs_test

import (
	"fmt"
	"time"

	"github.com/surat-mail/surat/protocols/srs"
)

func Example() {
	now := func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	r, err := srs.New([][]byte{[]byte("newest key"), []byte("older key")}, "fwd.example", now)
	if err != nil {
		panic(err)
	}
	fwd, _ := r.Forward("alice@example.org")
	fmt.Println(fwd)
	back, _ := r.Reverse(fwd)
	fmt.Println(back)
	again, _ := r.Forward("SRS0=abcd=AB=example.org=bob@other.example")
	fmt.Println(again)
	_, err = r.Reverse("SRS0=xxxx=AB=example.org=mallory@fwd.example")
	fmt.Println(err)
	// Output:
	// SRS0=tnqs=JV=example.org=alice@fwd.example
	// alice@example.org
	// SRS1=x4nK=other.example==abcd=AB=example.org=bob@fwd.example
	// srs: reverse "SRS0=xxxx=AB=example.org=mallory@fwd.example": hash does not match
}

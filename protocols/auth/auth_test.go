package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fast keeps tests quick; production parameters are exercised once below.
var fast = Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashFormat(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected PHC string %q", h)
	}
	ok, err := Verify(h, "correct horse")
	if err != nil || !ok {
		t.Fatalf("Verify(own hash) = %v, %v", ok, err)
	}
	if NeedsRehash(h) {
		t.Error("fresh hash reported as needing rehash")
	}
	h2, _ := Hash("correct horse")
	if h == h2 {
		t.Error("two hashes of the same password are equal: salt not random")
	}
}

func TestVerify(t *testing.T) {
	argon, err := HashWith(fast, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// x/crypto writes $2a$; $2b$ (OpenBSD, Dovecot) is the same algorithm.
	bc2a := string(bc)
	bc2b := "$2b$" + strings.TrimPrefix(bc2a, "$2a$")
	otherParams, _ := HashWith(Params{MemoryKiB: 128, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16}, "x")

	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
		wantErr  error
	}{
		{"argon2id match", argon, "s3cret", true, nil},
		{"argon2id mismatch", argon, "s3creT", false, nil},
		{"argon2id empty password", argon, "", false, nil},
		{"bcrypt 2b match", bc2b, "s3cret", true, nil},
		{"bcrypt 2a match", bc2a, "s3cret", true, nil},
		{"bcrypt mismatch", bc2b, "nope", false, nil},
		{"other argon2id parameters", otherParams, "x", true, nil},
		{"unsupported scheme", "{PLAIN}s3cret", "s3cret", false, ErrUnsupportedHash},
		{"md5-crypt", "$1$abc$def", "s3cret", false, ErrUnsupportedHash},
		{"argon2i not argon2id", strings.Replace(argon, "argon2id", "argon2i", 1), "s3cret", false, ErrUnsupportedHash},
		{"truncated", argon[:len(argon)-30], "s3cret", false, ErrMalformedHash},
		{"wrong version", strings.Replace(argon, "v=19", "v=16", 1), "s3cret", false, ErrMalformedHash},
		{"huge memory", strings.Replace(argon, "m=64", "m=4294967295", 1), "s3cret", false, ErrMalformedHash},
		{"zero time", strings.Replace(argon, "t=1", "t=0", 1), "s3cret", false, ErrMalformedHash},
		{"bad bcrypt", "$2b$04$short", "s3cret", false, ErrMalformedHash},
		{"too long password", argon, strings.Repeat("a", MaxPasswordLen+1), false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(tc.hash, tc.password)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSupportedAndRehash(t *testing.T) {
	weak, _ := HashWith(fast, "pw")
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, tc := range []struct {
		hash      string
		supported bool
		rehash    bool
	}{
		{weak, true, true},
		{string(bc), true, true},
		{"$argon2id$garbage", false, true},
		{"plain", false, true},
	} {
		if got := Supported(tc.hash); got != tc.supported {
			t.Errorf("Supported(%q) = %v", tc.hash, got)
		}
		if got := NeedsRehash(tc.hash); got != tc.rehash {
			t.Errorf("NeedsRehash(%q) = %v", tc.hash, got)
		}
	}
}

func TestParsePHC(t *testing.T) {
	good := "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g"
	ph, err := parsePHC(good)
	if err != nil {
		t.Fatal(err)
	}
	if ph.params.MemoryKiB != 19456 || ph.params.Time != 2 || ph.params.Threads != 1 {
		t.Fatalf("params %+v", ph.params)
	}
	bad := []string{
		"",
		"$argon2id$",
		"$argon2id$v=19$m=19456,t=2$c29tZXNhbHQ$aGFzaA",
		"$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHRzb21lc2FsdA$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=256$c29tZXNhbHRzb21lc2FsdA$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c29t$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g", // short salt
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$c29tZQ", // short key
		good + "$extra",
	}
	for _, s := range bad {
		if _, err := parsePHC(s); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("parsePHC(%q) err = %v, want ErrMalformedHash", s, err)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	h, _ := HashWith(fast, "seed")
	f.Add(h)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$2b$04$abcdefghijklmnopqrstuv")
	f.Fuzz(func(t *testing.T, s string) {
		ph, err := parsePHC(s)
		if err != nil {
			return
		}
		// Anything accepted must be within the limits Verify relies on.
		if ph.params.MemoryKiB > maxMemoryKiB || ph.params.Time > maxTime || ph.params.Threads == 0 ||
			len(ph.salt) < minSaltLen || len(ph.key) < minKeyLen || len(ph.key) > maxKeyLen {
			t.Fatalf("accepted out-of-range hash %q: %+v", s, ph.params)
		}
	})
}

func BenchmarkVerifyDefault(b *testing.B) {
	h, err := Hash("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := Verify(h, "benchmark password"); !ok {
			b.Fatal("mismatch")
		}
	}
}

package admin

import (
	"encoding/json"
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/surat-mail/surat/protocols/auth"
)

// TestAddUserWithPasswordHash: POST /v1/users imports a supported hash as
// it is, and refuses an unsupported one or a hash with a password.
func TestAddUserWithPasswordHash(t *testing.T) {
	argon, err := auth.HashWith(auth.Params{MemoryKiB: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		req      AddUserRequest
		wantCode int
	}{
		{"argon2id", AddUserRequest{Address: "a@example.test", PasswordHash: argon}, http.StatusCreated},
		{"bcrypt", AddUserRequest{Address: "b@example.test", PasswordHash: string(bc)}, http.StatusCreated},
		{"dovecot plain scheme", AddUserRequest{Address: "c@example.test", PasswordHash: "{PLAIN}secret"}, http.StatusBadRequest},
		{"truncated argon2id", AddUserRequest{Address: "d@example.test", PasswordHash: argon[:len(argon)-10]}, http.StatusBadRequest},
		{"hash and password", AddUserRequest{Address: "e@example.test", PasswordHash: argon, Password: "secret"}, http.StatusBadRequest},
		{"neither", AddUserRequest{Address: "f@example.test"}, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s := newTestServer(t, f, "")
			body, err := json.Marshal(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			rec := do(t, s, call{method: http.MethodPost, path: "/v1/users", body: string(body)})
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body.String(), tt.wantCode)
			}
			u := f.users[tt.req.Address]
			if tt.wantCode != http.StatusCreated {
				if u != nil {
					t.Fatalf("user created with hash %q", u.PasswordHash)
				}
				errorOf(t, rec)
				return
			}
			if u == nil || u.PasswordHash != tt.req.PasswordHash {
				t.Fatalf("stored %+v, want the imported hash as it is", u)
			}
			if ok, err := auth.Verify(u.PasswordHash, "secret"); !ok || err != nil {
				t.Fatalf("the imported hash does not verify the password: %v, %v", ok, err)
			}
		})
	}
}

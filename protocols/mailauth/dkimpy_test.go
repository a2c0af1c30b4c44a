package mailauth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// signScript signs stdin with Python's dkim module (Debian python3-dkim) and
// writes the signed message. A python3 that is not Debian's (pyenv's, say)
// does not see Debian's packages: their directory is tried too.
const signScript = `
import sys
try:
    import dkim
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import dkim
    except ImportError as e:
        print("no dkim module: %s" % e, file=sys.stderr)
        sys.exit(3)
algo, keyfile, domain, selector = sys.argv[1:5]
key = open(keyfile, "rb").read()
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=algo.encode(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
sys.stdout.buffer.write(sig + msg)
`

// dkimpySign signs msg with Python's dkim module; the test is skipped,
// saying why, when python3 or its dkim module is missing.
func dkimpySign(t *testing.T, algo string, key []byte, domain, selector, msg string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: install python3-dkim to run this interop test")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", signScript, algo, keyFile, domain, selector)
	cmd.Stdin = bytes.NewReader([]byte(msg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3 {
		t.Skipf("python3-dkim cannot be imported (apt-get install python3-dkim): %s", stderr.String())
	}
	if err != nil {
		t.Fatalf("python dkim.sign: %v: %s", err, stderr.String())
	}
	return string(out)
}

// Mail signed by Python's dkim module verifies here: RSA and Ed25519.
func TestDKIMInteropPython(t *testing.T) {
	srv, r := newDNS(t)
	c := newChecker(t, r, nil)
	msg := message("news@py.test")

	t.Run("rsa-sha256", func(t *testing.T) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		srv.Add("rsa._domainkey.py.test", "TXT", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(der))
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		signed := dkimpySign(t, "rsa-sha256", pemKey, "py.test", "rsa", msg)
		v := check(t, c, env("192.0.2.1", "", "news@py.test"), signed)
		if len(v.DKIM) != 1 || v.DKIM[0].Result != "pass" || v.DKIM[0].Selector != "rsa" {
			t.Fatalf("DKIM = %+v", v.DKIM)
		}
		// And a change after signing is caught.
		v = check(t, c, env("192.0.2.1", "", "news@py.test"), signed[:len(signed)-3]+"!\r\n")
		if len(v.DKIM) != 1 || v.DKIM[0].Result != "fail" {
			t.Fatalf("altered: DKIM = %+v", v.DKIM)
		}
	})
	t.Run("ed25519-sha256", func(t *testing.T) {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		srv.Add("ed._domainkey.py.test", "TXT", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
		// dkimpy takes the Ed25519 private key as the base64 of its seed (RFC 8463 §4.2 form).
		seed := []byte(base64.StdEncoding.EncodeToString(priv.Seed()))
		signed := dkimpySign(t, "ed25519-sha256", seed, "py.test", "ed", msg)
		v := check(t, c, env("192.0.2.1", "", "news@py.test"), signed)
		if len(v.DKIM) != 1 || v.DKIM[0].Result != "pass" || v.DKIM[0].Algorithm != "ed25519-sha256" {
			t.Fatalf("DKIM = %+v", v.DKIM)
		}
	})
}

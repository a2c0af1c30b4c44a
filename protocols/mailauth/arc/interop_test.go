package arc

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"
)

// pyARC seals and verifies with Python's dkim module (dkimpy, Debian
// python3-dkim), answering its DNS queries from the zone it is given.
const pyARC = `
import sys, json, base64, dkim
req = json.load(sys.stdin)
zone = req.get("zone", {})
def dnsfunc(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    v = zone.get(n.rstrip(".").lower())
    return v.encode() if v is not None else None
msg = base64.b64decode(req["message"])
if req["mode"] == "verify":
    cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    print(json.dumps({"cv": cv.decode() if cv else None, "reason": reason}))
else:
    lines = dkim.arc_sign(msg, req["selector"].encode(), req["domain"].encode(),
                          req["key"].encode(), req["srv_id"].encode())
    print(json.dumps({"fields": base64.b64encode(b"".join(lines)).decode()}))
`

// pythonDKIM returns a Python interpreter that can import dkim (and
// authres, which its ARC sealing needs), or skips the test.
func pythonDKIM(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import dkim, authres, nacl").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 that can import dkim, authres and nacl: apt-get install -y python3-dkim python3-authres python3-nacl to run the interop tests")
	return ""
}

func runPy(t *testing.T, py string, req map[string]any) map[string]any {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", pyARC)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var resp map[string]any
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	return resp
}

func pyVerify(t *testing.T, py string, z *zone, msg string) (string, string) {
	t.Helper()
	resp := runPy(t, py, map[string]any{
		"mode": "verify", "message": base64.StdEncoding.EncodeToString([]byte(msg)), "zone": flatZone(z),
	})
	cv, _ := resp["cv"].(string)
	reason, _ := resp["reason"].(string)
	return cv, reason
}

// pySeal seals msg with Python. dkimpy takes the chain status from the
// arc= result of the message's Authentication-Results for srvID, so the
// caller puts one there.
func pySeal(t *testing.T, py string, k testKey, msg string) string {
	t.Helper()
	rk, ok := k.signer.(*rsa.PrivateKey)
	if !ok {
		t.Fatal("dkimpy 1.1 seals with RSA keys only")
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	resp := runPy(t, py, map[string]any{
		"mode": "sign", "message": base64.StdEncoding.EncodeToString([]byte(msg)),
		"selector": k.selector, "domain": k.domain, "key": string(keyPEM), "srv_id": k.domain,
	})
	fields, err := base64.StdEncoding.DecodeString(resp["fields"].(string))
	if err != nil || len(fields) == 0 {
		t.Fatalf("python sealed nothing (%v)", err)
	}
	return string(fields) + msg
}

func flatZone(z *zone) map[string]string {
	out := map[string]string{}
	for name, txt := range z.txt {
		out[name] = strings.Join(txt, "")
	}
	return out
}

// TestInteropGoSealsPythonVerifies: chains sealed here pass dkimpy's
// arc_verify over one and three hops; a tampered body fails there too.
// RSA only: dkimpy 1.1's ARC knows no algorithm but rsa-sha256
// (ARC_HASH_ALGORITHMS), so Ed25519 seals cannot be checked with it.
func TestInteropGoSealsPythonVerifies(t *testing.T) {
	py := pythonDKIM(t)
	for _, kind := range []string{"rsa"} {
		t.Run(kind, func(t *testing.T) {
			z := newZone()
			msg := baseMessage
			for hop, d := range []string{"one.example.net", "two.example.net", "three.example.net"} {
				msg = seal(t, z, newKey(t, z, kind, d, "s"+kind), msg)
				if cv, reason := pyVerify(t, py, z, msg); cv != "pass" {
					t.Fatalf("hop %d: dkimpy says cv=%s (%s)\n%s", hop+1, cv, reason, msg)
				}
			}
			tampered := strings.Replace(msg, "the numbers are", "the numbers were", 1)
			if cv, _ := pyVerify(t, py, z, tampered); cv != "fail" {
				t.Fatalf("tampered body: dkimpy says cv=%s, want fail", cv)
			}
		})
	}
}

// TestInteropPythonSealsGoVerifies: chains sealed by dkimpy verify here,
// alone and mixed with our seals, and a tampered one fails.
func TestInteropPythonSealsGoVerifies(t *testing.T) {
	py := pythonDKIM(t)
	z := newZone()
	k1 := newKey(t, z, "rsa", "py1.example.net", "py")
	k2 := newKey(t, z, "rsa", "go2.example.net", "go")
	k3 := newKey(t, z, "rsa", "py3.example.net", "py")

	msg := "Authentication-Results: py1.example.net; spf=pass smtp.mailfrom=alice@example.org;\r\n" +
		"\tdkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n" + baseMessage
	msg = pySeal(t, py, k1, msg)
	res := verify(t, z, msg)
	if res.Status != Pass || res.Count != 1 {
		t.Fatalf("dkimpy hop 1: status %s count %d: %v\n%s", res.Status, res.Count, res.Err, msg)
	}
	if r, ok := res.Sets[0].Result("dmarc"); !ok || r.Result != "pass" || res.Sets[0].AuthServID != "py1.example.net" {
		t.Errorf("dkimpy AAR read as %q %+v", res.Sets[0].AuthServID, res.Sets[0].Results)
	}

	msg = seal(t, z, k2, msg)
	if cv, reason := pyVerify(t, py, z, msg); cv != "pass" {
		t.Fatalf("dkimpy then Go: dkimpy says cv=%s (%s)", cv, reason)
	}
	msg = "Authentication-Results: py3.example.net; arc=pass\r\n" + msg
	msg = pySeal(t, py, k3, msg)
	res = verify(t, z, msg)
	if res.Status != Pass || res.Count != 3 || res.Sets[2].CV != Pass {
		t.Fatalf("dkimpy, Go, dkimpy: status %s count %d: %v\n%s", res.Status, res.Count, res.Err, msg)
	}
	tampered := strings.Replace(msg, "Subject: Quarterly", "Subject: Yearly", 1)
	if res := verify(t, z, tampered); res.Status != Fail {
		t.Fatalf("tampered Subject: status %s, want fail", res.Status)
	}
}

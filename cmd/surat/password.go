package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxPasswordLine bounds what --password-stdin reads.
const maxPasswordLine = 4096

// readPassword gets the password for address: the first line of stdin with
// --password-stdin, else a no-echo prompt when stdin is a terminal.
func readPassword(e *env, fromStdin bool, address string) (string, error) {
	if fromStdin {
		return firstLine(e.stdin)
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !isTerminal(f) {
		return "", errors.New("standard input is not a terminal: use --password-stdin")
	}
	fmt.Fprintf(e.stderr, "Password for %s: ", address)
	pw, err := readNoEcho(f)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(e.stderr, "Again: ")
	again, err := readNoEcho(f)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords differ")
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}

// firstLine reads up to the first LF and strips the line ending (LF or
// CRLF). A last line without LF counts.
func firstLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+2), maxPasswordLine+2)
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if errors.Is(err, io.EOF) && len(line) > maxPasswordLine {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLine)
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("empty password on standard input")
	}
	return line, nil
}

func readNoEcho(f *os.File) (string, error) {
	restore, err := disableEcho(f)
	if err != nil {
		return "", fmt.Errorf("turn off echo: %w", err)
	}
	defer restore()
	var b []byte
	buf := make([]byte, 1)
	for len(b) <= maxPasswordLine {
		n, err := f.Read(buf)
		if n == 1 {
			if buf[0] == '\n' || buf[0] == '\r' {
				return string(b), nil
			}
			b = append(b, buf[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return string(b), nil
			}
			return "", err
		}
	}
	return "", fmt.Errorf("password longer than %d bytes", maxPasswordLine)
}

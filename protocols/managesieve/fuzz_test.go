package managesieve

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadCommand: the command reader never panics, never returns more
// literal octets than allowed, and quoted strings it returns round-trip
// through appendString.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{
		"CAPABILITY\r\n", "PUTSCRIPT \"a\" {5+}\r\nkeep;\r\n", "HAVESPACE \"x\" 10\r\n",
		"AUTHENTICATE \"PLAIN\" \"AGFAYgBj\"\r\n", "RENAMESCRIPT {1}\r\na \"b\"\r\n",
		"NOOP \"t\\\"ag\"\r\n", "{3}\r\nabc\r\n", "PUTSCRIPT {99+}\r\nshort", "\"\\",
	} {
		f.Add([]byte(s))
	}
	lim := wireLimits{line: 200, literal: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 64)
		for range 16 {
			cmd, err := readCommand(r, lim)
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errAbuse) {
				return
			}
			if err != nil {
				continue
			}
			total := 0
			for _, a := range cmd.args {
				total += len(a.s)
				if a.atom {
					continue
				}
				var got []arg
				enc := appendString(nil, []byte(a.s))
				if len(enc) > 0 && enc[0] == '"' {
					if _, _, err := tokenize(enc, &got); err != nil || len(got) != 1 || got[0].s != a.s {
						t.Fatalf("%q does not round-trip: %q %v", a.s, enc, err)
					}
				}
			}
			if total > int(lim.literal)+len(data) {
				t.Fatalf("command larger than its input: %d", total)
			}
		}
	})
}

// FuzzSession: whatever a client sends, the session answers without
// panicking, and every command gets a final response or the connection
// ends.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"CAPABILITY\r\nLOGOUT\r\n", "AUTHENTICATE \"PLAIN\"\r\n\"*\"\r\n",
		"PUTSCRIPT \"a\" {5+}\r\nkeep;\r\nLISTSCRIPTS\r\n", "NOOP \"x\"\r\nSTARTTLS extra\r\n",
		"HAVESPACE \"a\" 99999999999\r\n", "UNAUTHENTICATE\r\nGETSCRIPT \"a\"\r\n",
	} {
		f.Add([]byte(s))
	}
	ts := startServer(f, func(c *Config) { c.MaxBadCommands = 1000 })
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := dial(t, ts.addr)
		c.send(string(data))
		_ = c.conn.(interface{ CloseWrite() error }).CloseWrite()
		for {
			r := c.read()
			switch r.status {
			case "EOF":
				return
			case "TIMEOUT":
				t.Fatalf("the session neither answered nor ended: %s", r.text)
			}
		}
	})
}

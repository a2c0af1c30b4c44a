package wire_test

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// A dispatcher's loop over the decoder: commands, a refused literal, a
// syntax error with a literal to skip, and the session going on.
func Example() {
	in := "a1 LOGIN alice {6}\r\nsecret\r\n" +
		"a2 LOGIN bob {999999999}\r\n" + // refused before "+": the client sends nothing
		"a3 FETCH 0 FLAGS {3+}\r\nxyz\r\n" + // bad set; the literal is skipped
		"a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 7)\r\n" +
		"a5 NOOP\r\n"
	var out bytes.Buffer
	enc := wire.NewEncoder(bufio.NewWriter(&out))
	dec := wire.NewDecoder(bufio.NewReader(strings.NewReader(in)), wire.Limits{})
	dec.Continue = func(int64) error { return enc.Continuation("Ready").Flush() }
	for {
		tag, name, err := dec.Begin()
		if err == nil {
			switch name {
			case "LOGIN":
				var user string
				if user, _, err = dec.ReadLogin(); err == nil {
					enc.Status(tag, "OK", "", "Logged in as "+user)
				}
			case "FETCH", "UID FETCH":
				var c *wire.FetchCommand
				if c, err = dec.ReadFetch(name == "UID FETCH"); err == nil {
					enc.Status(tag, "OK", "", fmt.Sprintf("FETCH %s since %d", c.NumSet, c.Options.ChangedSince))
				}
			case "NOOP":
				if err = dec.End(); err == nil {
					enc.Status(tag, "OK", "", "NOOP completed")
				}
			default:
				err = &wire.SyntaxError{Text: "Unknown command"}
			}
		}
		if se, ok := wire.IsSyntax(err); ok {
			if dec.Discard() != nil || se.Fatal {
				enc.Status("", "BYE", "", se.Text)
				break
			}
			status := "BAD"
			if se.No {
				status = "NO"
			}
			enc.Status(tag, status, se.Code, se.Text)
			continue
		}
		if err != nil { // io.EOF: the client went away
			break
		}
	}
	_ = enc.Flush()
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// + Ready
	// a1 OK Logged in as alice
	// a2 NO [TOOBIG] Literal too large
	// a3 BAD Invalid sequence set: 0 is not a message number
	// a4 OK FETCH 1:* since 7
	// a5 OK NOOP completed
}

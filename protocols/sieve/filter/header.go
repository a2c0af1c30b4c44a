package filter

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam"
)

// fields splits a header block into its fields, each with its folded
// continuation lines and line end; the empty line that ends the block is
// returned apart (rest).
func fields(block []byte) (out [][]byte, rest []byte) {
	for len(block) > 0 {
		if block[0] == '\n' || bytes.HasPrefix(block, []byte("\r\n")) {
			return out, block
		}
		end := 0
		for {
			i := bytes.IndexByte(block[end:], '\n')
			if i < 0 {
				end = len(block)
				break
			}
			end += i + 1
			if end >= len(block) || (block[end] != ' ' && block[end] != '\t') {
				break
			}
		}
		out = append(out, block[:end])
		block = block[end:]
	}
	return out, nil
}

// ownHeader is the message's own header block out of the one editheader
// left (RFC 5293), which the scripts saw with the earlier checks' fields
// (prepend) on top: those are stored on top of every copy anyway, so each
// is taken out where it still stands as it was. A script that deleted one
// of them does not delete it from the stored copy; one that added a field
// above them gets it below them.
func ownHeader(edited, prepend []byte) []byte {
	pending, _ := fields(prepend)
	fs, rest := fields(edited)
	out := make([]byte, 0, len(edited))
	for _, f := range fs {
		if i := indexField(pending, f); i >= 0 {
			pending = append(pending[:i], pending[i+1:]...)
			continue
		}
		out = append(out, f...)
	}
	if len(rest) == 0 {
		rest = []byte("\r\n")
	}
	return append(out, rest...)
}

func indexField(fs [][]byte, f []byte) int {
	for i, x := range fs {
		if bytes.Equal(x, f) {
			return i
		}
	}
	return -1
}

// spamScore reads the classifier's verdict for this copy from its
// X-Spam-Status field among the earlier checks' fields ("Yes,
// score=9.73 required=8.00 ...", protocols/spam) as RFC 5235's spamtest
// value (§3.1: 1 = surely not spam ... 10 = spam) and spamtestplus percent
// (§3.2: 0 ... 100): the score over the threshold, 10 and 100 exactly when
// the classifier called it spam. ok is false when the message was not
// classified (spamtest then says 0).
func spamScore(prepend []byte) (value, percent int, ok bool) {
	fs, _ := fields(prepend)
	for _, f := range fs {
		name, v, found := bytes.Cut(f, []byte(":"))
		if !found || !strings.EqualFold(strings.TrimSpace(string(name)), spam.StatusField) {
			continue
		}
		return parseSpamStatus(unfold(v))
	}
	return 0, 0, false
}

// parseSpamStatus parses an X-Spam-Status value.
func parseSpamStatus(v string) (value, percent int, ok bool) {
	verdict, rest, _ := strings.Cut(v, ",")
	isSpam := strings.EqualFold(strings.TrimSpace(verdict), "yes")
	var score, required float64
	var haveScore, haveRequired bool
	for _, w := range strings.Fields(rest) {
		k, val, _ := strings.Cut(w, "=")
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		switch k {
		case "score":
			score, haveScore = f, true
		case "required":
			required, haveRequired = f, true
		}
	}
	if !haveScore || !haveRequired || required <= 0 {
		return 0, 0, false
	}
	x := min(max(score/required, 0), 1)
	value, percent = 1+int(math.Round(9*x)), int(math.Round(100*x))
	if isSpam {
		return 10, 100, true
	}
	return min(value, 9), min(percent, 99), true
}

func unfold(v []byte) string {
	s := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(v))
	return strings.TrimSpace(s)
}

// virusScore is RFC 5235 §3.1's virustest value from the scanners'
// facts: 1 for clean, 5 for infected (kept: --clamd-failure or a policy
// that accepts it); ok is false when no scanner looked.
func virusScore(earlier pipeline.Result) (int, bool) {
	switch v, _ := earlier.Fact("clamd"); v {
	case "clean":
		return 1, true
	case "infected":
		return 5, true
	}
	return 0, false
}

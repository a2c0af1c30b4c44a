package spamcorpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Split deals the messages into k folds, stratified: the ham and the spam
// are each shuffled with a generator seeded by seed and dealt in turn, so
// every fold holds a k-th of each (to within one) and the same seed gives
// the same folds. It returns each fold's message indices.
func Split(msgs []Message, k int, seed uint64) [][]int {
	folds := make([][]int, k)
	rng := rand.New(rand.NewPCG(seed, 0x5a17c0))
	for _, spam := range []bool{false, true} {
		var idx []int
		for _, m := range msgs {
			if m.Spam == spam {
				idx = append(idx, m.Index)
			}
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for i, x := range idx {
			folds[i%k] = append(folds[i%k], x)
		}
	}
	return folds
}

// Layout is the folds written as files, one .eml per message:
// Dir/fold-NN/{ham,spam}/INDEX.eml, NN from 01.
type Layout struct {
	Dir   string
	Folds [][]int
}

// FoldDir is fold f's (0-based) directory of ham or spam.
func (l Layout) FoldDir(f int, spam bool) string {
	class := "ham"
	if spam {
		class = "spam"
	}
	return filepath.Join(l.Dir, fmt.Sprintf("fold-%02d", f+1), class)
}

// File is where message m is written.
func (l Layout) File(f int, m Message) string {
	return filepath.Join(l.FoldDir(f, m.Spam), fmt.Sprintf("%05d.eml", m.Index))
}

// WriteFolds writes every fold's messages under dir (emptied first).
func WriteFolds(dir string, msgs []Message, folds [][]int) (Layout, error) {
	l := Layout{Dir: dir, Folds: folds}
	if err := os.RemoveAll(dir); err != nil {
		return l, fmt.Errorf("spamcorpus: %w", err)
	}
	for f, fold := range folds {
		for _, spam := range []bool{false, true} {
			if err := os.MkdirAll(l.FoldDir(f, spam), 0o755); err != nil {
				return l, fmt.Errorf("spamcorpus: %w", err)
			}
		}
		for _, i := range fold {
			if err := os.WriteFile(l.File(f, msgs[i]), msgs[i].Raw, 0o644); err != nil {
				return l, fmt.Errorf("spamcorpus: %w", err)
			}
		}
	}
	return l, nil
}

// TrainDirs is the directories of ham and of spam of every fold but test.
func (l Layout) TrainDirs(test int) (ham, spam []string) {
	for f := range l.Folds {
		if f != test {
			ham = append(ham, l.FoldDir(f, false))
			spam = append(spam, l.FoldDir(f, true))
		}
	}
	return ham, spam
}

// TrainCounts is how many ham and spam messages the folds other than test
// hold.
func (l Layout) TrainCounts(msgs []Message, test int) (ham, spam int) {
	for f, fold := range l.Folds {
		if f == test {
			continue
		}
		for _, i := range fold {
			if msgs[i].Spam {
				spam++
			} else {
				ham++
			}
		}
	}
	return ham, spam
}

package bayes

import (
	"fmt"
	"math"
	"slices"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// Counts are one token's counts in a model: how many messages trained as
// spam, and as ham, contained it.
type Counts struct{ Spam, Ham uint32 }

// Totals are a model's trained messages, by class.
type Totals struct{ Spam, Ham uint64 }

// Model reads trained counts; *mailbox.Store satisfies it.
type Model interface {
	// SpamCounts returns the counts of each token (in the order given; a
	// token never trained has zero counts) and the model's totals. User
	// "" is the global model.
	SpamCounts(user string, tokens []uint64) ([]Counts, Totals, error)
}

// Defaults of a Classifier's parameters; docs/DESIGN.md, "Spam filtering",
// gives the reasons.
const (
	// DefaultThreshold is the probability at or above which a message is
	// spam.
	DefaultThreshold = 0.8
	// DefaultMinTrained is how many messages of each class the models
	// (global and user's together) need before any verdict is given.
	DefaultMinTrained = 10
	// UnknownWordStrength is Robinson's s: how many messages' worth of
	// belief the prior x = 0.5 holds against a token's own counts.
	UnknownWordStrength = 0.45
	// UnknownWordProb is Robinson's x, a never-seen token's probability.
	UnknownWordProb = 0.5
	// MinProbStrength drops tokens whose f(w) is within this of 0.5: they
	// only add noise to the combination.
	MinProbStrength = 0.1
	// MaxDiscriminators caps the tokens combined, the most extreme first.
	MaxDiscriminators = 150
	// UserPriorWeight is the weight, in messages, of the global model's
	// token frequencies as the prior of a user's: a user who trained few
	// messages is classified by the global model, one who trained many
	// by their own.
	UserPriorWeight = 20
)

// Classifier combines the global model and a user's into a verdict. The
// zero values of its parameters mean their defaults. It is safe for
// concurrent use if its Model is.
type Classifier struct {
	Model      Model
	Threshold  float64 // 0: DefaultThreshold
	MinTrained uint64  // 0: DefaultMinTrained
}

// Verdict is a classification.
type Verdict struct {
	// Probability that the message is spam, from Robinson's combination
	// of the tokens' probabilities by Fisher's chi-square method; 0.5 when
	// the models have not been trained enough.
	Probability float64
	Spam        bool    // Probability >= Threshold
	Score       float64 // 10 × Probability, rounded to 0.01: for X-Spam-Status
	Tokens      int     // tokens given
	Used        int     // tokens combined (known and not neutral)
}

// Classify judges a message's tokens with the global model and, when user
// is not empty, the user's.
func (c *Classifier) Classify(user string, tokens []uint64) (Verdict, error) {
	v := Verdict{Probability: 0.5, Score: 5, Tokens: len(tokens)}
	global, gt, err := c.Model.SpamCounts("", tokens)
	if err != nil {
		return v, fmt.Errorf("bayes: reading the global model: %w", err)
	}
	var mine []Counts
	var ut Totals
	if user != "" {
		if mine, ut, err = c.Model.SpamCounts(user, tokens); err != nil {
			return v, fmt.Errorf("bayes: reading %s's model: %w", user, err)
		}
	}
	minTrained := c.MinTrained
	if minTrained == 0 {
		minTrained = DefaultMinTrained
	}
	if gt.Spam+ut.Spam < minTrained || gt.Ham+ut.Ham < minTrained {
		return v, nil
	}
	probs := make([]float64, 0, len(tokens))
	for i := range tokens {
		var g, u Counts
		if i < len(global) {
			g = global[i]
		}
		if i < len(mine) {
			u = mine[i]
		}
		f, ok := tokenProb(g, gt, u, ut)
		if ok && math.Abs(f-0.5) >= MinProbStrength {
			probs = append(probs, f)
		}
	}
	v.Probability, v.Used = Combine(probs)
	threshold := c.Threshold
	if threshold == 0 {
		threshold = DefaultThreshold
	}
	v.Spam = v.Probability >= threshold
	v.Score = math.Round(v.Probability*1000) / 100
	return v, nil
}

// tokenProb is Robinson's f(w) for one token (docs/DESIGN.md, "Spam
// filtering"). The frequency of the token among a class's messages is the
// user's, with the global frequency as a prior worth UserPriorWeight
// messages:
//
//	rate_spam = (u.spam + W·g.spam/G.spam) / (U.spam + W)
//
// (and likewise for ham; a class the global model has not seen has rate 0
// there). Then p(w) = rate_spam / (rate_spam + rate_ham), n = all the
// messages that contained the token, and
//
//	f(w) = (s·x + n·p(w)) / (s + n)
//
// with s = UnknownWordStrength, x = UnknownWordProb. ok is false for a
// token no model has seen.
func tokenProb(g Counts, gt Totals, u Counts, ut Totals) (f float64, ok bool) {
	n := float64(g.Spam) + float64(g.Ham) + float64(u.Spam) + float64(u.Ham)
	if n == 0 {
		return UnknownWordProb, false
	}
	rs := classRate(g.Spam, gt.Spam, u.Spam, ut.Spam)
	rh := classRate(g.Ham, gt.Ham, u.Ham, ut.Ham)
	if rs+rh == 0 {
		return UnknownWordProb, false
	}
	p := rs / (rs + rh)
	return (UnknownWordStrength*UnknownWordProb + n*p) / (UnknownWordStrength + n), true
}

// classRate is a token's frequency in one class: the user's count over
// the user's messages, with the global frequency as prior.
func classRate(g uint32, gTotal uint64, u uint32, uTotal uint64) float64 {
	var prior float64
	if gTotal > 0 {
		// Counts can pass totals after a prune-and-retrain race; a
		// frequency is at most 1.
		prior = min(float64(g)/float64(gTotal), 1)
	}
	if uTotal == 0 {
		return prior
	}
	return min((float64(u)+UserPriorWeight*prior)/(float64(uTotal)+UserPriorWeight), 1)
}

// Combine merges token probabilities into one (Robinson's "A Statistical
// Approach to the Spam Problem", Fisher's method): with the
// MaxDiscriminators probabilities furthest from 0.5,
//
//	S = 1 − C⁻¹(−2·Σ ln(1−f), 2n)   evidence of spam
//	H = 1 − C⁻¹(−2·Σ ln f, 2n)      evidence of ham
//	I = (1 + S − H) / 2
//
// where C⁻¹ is the chi-square survival function. I is near 1 for spam,
// near 0 for ham and near 0.5 when the evidence is weak or conflicting.
// It returns I and how many probabilities it used; 0.5 and 0 for none.
func Combine(probs []float64) (float64, int) {
	if len(probs) == 0 {
		return 0.5, 0
	}
	if len(probs) > MaxDiscriminators {
		probs = slices.Clone(probs)
		// Most extreme first; ties by value so the choice is deterministic.
		slices.SortFunc(probs, func(a, b float64) int {
			da, db := math.Abs(a-0.5), math.Abs(b-0.5)
			switch {
			case da > db:
				return -1
			case da < db:
				return 1
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		})
		probs = probs[:MaxDiscriminators]
	}
	var lnSpam, lnHam float64
	for _, f := range probs {
		// f is within (0, 1) by construction (s > 0); clamp anyway.
		f = min(max(f, 1e-9), 1-1e-9)
		lnHam += math.Log(f)
		lnSpam += math.Log1p(-f)
	}
	n := len(probs)
	s := 1 - chi2Q(-2*lnSpam, 2*n)
	h := 1 - chi2Q(-2*lnHam, 2*n)
	return (1 + s - h) / 2, n
}

// chi2Q is the chi-square survival function for an even number of degrees
// of freedom v: P(X² ≥ x2) = e^(−m) Σ_{i<v/2} m^i/i!, m = x2/2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return min(sum, 1)
}

// TrainEvent is the event that trains a model with one message's tokens
// (sorted and distinct, as Tokens returns them): user "" is the global
// model; retrain takes back the message's counts of the other class first.
func TrainEvent(user string, spam, retrain bool, tokens []uint64, now time.Time) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_SpamTrained{SpamTrained: &evlog.SpamTrained{
		User: user, Spam: spam, Retrain: retrain, Tokens: tokens, TrainedUnix: now.Unix(),
	}}}
}

// PruneEvent is the event that drops a model's tokens counted at most
// maxCount times in all and last seen before seenBefore.
func PruneEvent(user string, maxCount uint32, seenBefore time.Time) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_SpamPruned{SpamPruned: &evlog.SpamPruned{
		User: user, MaxCount: maxCount, SeenBeforeUnix: seenBefore.Unix(),
	}}}
}

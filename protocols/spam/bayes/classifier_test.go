package bayes

import (
	"math"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

func TestChi2Q(t *testing.T) {
	for _, c := range []struct {
		x2   float64
		v    int
		want float64
	}{
		{0, 2, 1},
		{2, 2, math.Exp(-1)},
		{4, 4, 3 * math.Exp(-2)}, // e^-2 (1 + 2)
		{1e6, 300, 0},
	} {
		if got := chi2Q(c.x2, c.v); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("chi2Q(%v, %d) = %v, want %v", c.x2, c.v, got, c.want)
		}
	}
}

func TestCombine(t *testing.T) {
	rep := func(p float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = p
		}
		return out
	}
	if p, n := Combine(nil); p != 0.5 || n != 0 {
		t.Errorf("Combine(nil) = %v, %d", p, n)
	}
	if p, _ := Combine(rep(0.99, 20)); p < 0.99 {
		t.Errorf("spammy tokens combine to %v", p)
	}
	if p, _ := Combine(rep(0.01, 20)); p > 0.01 {
		t.Errorf("hammy tokens combine to %v", p)
	}
	// Strong evidence both ways is unsure, not spam.
	if p, _ := Combine(append(rep(0.99, 20), rep(0.01, 20)...)); math.Abs(p-0.5) > 0.01 {
		t.Errorf("conflicting evidence combines to %v", p)
	}
	// At most MaxDiscriminators count, the most extreme ones.
	probs := append(rep(0.6, 1000), rep(0.001, 10)...)
	if p, n := Combine(probs); n != MaxDiscriminators || p > 0.5 {
		t.Errorf("Combine of many = %v, %d", p, n)
	}
	// Extremes are clamped, not infinite.
	if p, _ := Combine([]float64{0, 1, 1}); math.IsNaN(p) {
		t.Error("NaN")
	}
}

func TestTokenProb(t *testing.T) {
	gt := Totals{Spam: 100, Ham: 100}
	// Seen in half the spam and never in ham.
	f, ok := tokenProb(Counts{Spam: 50}, gt, Counts{}, Totals{})
	if !ok || f < 0.99 {
		t.Errorf("spam token f = %v", f)
	}
	// A token seen once leans less than one seen 50 times (Robinson's s).
	f1, _ := tokenProb(Counts{Spam: 1}, gt, Counts{}, Totals{})
	if !(f1 > 0.5 && f1 < f) {
		t.Errorf("hapax f = %v, frequent f = %v", f1, f)
	}
	if _, ok := tokenProb(Counts{}, gt, Counts{}, Totals{}); ok {
		t.Error("an unseen token is used")
	}
	// Equal frequencies: neutral, though classes are unbalanced.
	if f, _ := tokenProb(Counts{Spam: 10, Ham: 40}, Totals{Spam: 100, Ham: 400}, Counts{}, Totals{}); math.Abs(f-0.5) > 1e-9 {
		t.Errorf("equal frequencies f = %v", f)
	}
	// A user who trained no ham judges ham frequency by the global model.
	f, _ = tokenProb(Counts{Spam: 1, Ham: 5}, gt, Counts{Spam: 30}, Totals{Spam: 30})
	if f < 0.9 {
		t.Errorf("user's spam token stays hammy: %v", f)
	}
}

// trainText trains m with a message text.
func trainText(t *testing.T, m *memModel, user string, spam bool, msg string) {
	t.Helper()
	m.train(user, spam, tokensOf(t, msg))
}

func TestClassifyUserOverridesGlobal(t *testing.T) {
	m := newMemModel()
	// The global model: a newsletter is one ham among many.
	hams := []string{"the project meeting notes are attached, see agenda", "lunch on friday with the team",
		"quarterly report draft for review", "holiday photos from the trip", "invoice for the consulting work",
		"minutes of the board meeting", "your flight booking confirmation", "code review comments on the patch"}
	for i := range 60 {
		trainText(t, m, "", true, "Subject: cheap pills\r\n\r\nbuy cheap pills online pharmacy discount")
		if i%20 == 0 {
			trainText(t, m, "", false, "Subject: weekly newsletter\r\n\r\nour weekly newsletter with gardening tips")
		} else {
			trainText(t, m, "", false, "Subject: note\r\n\r\n"+hams[i%len(hams)])
		}
	}
	c := &Classifier{Model: m}
	spam := tokensOf(t, "Subject: cheap pills\r\n\r\ndiscount pharmacy online")
	ham := tokensOf(t, "Subject: note\r\n\r\nagenda for the project meeting")
	news := tokensOf(t, "Subject: weekly newsletter\r\n\r\ngardening tips this week")
	for _, x := range []struct {
		name   string
		user   string
		tokens []uint64
		spam   bool
	}{{"spam", "", spam, true}, {"ham", "", ham, false}, {"newsletter", "", news, false}, {"newsletter for an untrained user", "u@example.org", news, false}} {
		v, err := c.Classify(x.user, x.tokens)
		if err != nil {
			t.Fatal(err)
		}
		if v.Spam != x.spam || v.Used == 0 || v.Tokens != len(x.tokens) {
			t.Errorf("%s: verdict %+v", x.name, v)
		}
		if v.Score != math.Round(v.Probability*1000)/100 {
			t.Errorf("%s: score %v for probability %v", x.name, v.Score, v.Probability)
		}
	}
	// The user calls the newsletter spam a few times: for them it is.
	for range 3 {
		trainText(t, m, "u@example.org", true, "Subject: weekly newsletter\r\n\r\nour weekly newsletter with gardening tips")
	}
	v, _ := c.Classify("u@example.org", news)
	if !v.Spam {
		t.Errorf("after the user's training, newsletter verdict %+v", v)
	}
	// Training only spam does not make the user's other mail spam.
	if v, _ := c.Classify("u@example.org", ham); v.Spam {
		t.Errorf("the user's ham after training only spam: %+v", v)
	}
	if v, _ := c.Classify("", news); v.Spam {
		t.Error("a user's training changed the global verdict")
	}
	if v, _ := c.Classify("other@example.org", news); v.Spam {
		t.Error("a user's training changed another user's verdict")
	}
}

func TestClassifyUntrained(t *testing.T) {
	m := newMemModel()
	for range DefaultMinTrained - 1 {
		trainText(t, m, "", true, "Subject: spam\r\n\r\nspam words")
		trainText(t, m, "", false, "Subject: ham\r\n\r\nham words")
	}
	v, err := (&Classifier{Model: m}).Classify("", tokensOf(t, "Subject: spam\r\n\r\nspam words"))
	if err != nil || v.Probability != 0.5 || v.Spam || v.Used != 0 {
		t.Errorf("under MinTrained: %+v, %v", v, err)
	}
	// The user's trained messages count towards the minimum.
	trainText(t, m, "u@example.org", true, "Subject: spam\r\n\r\nspam words")
	trainText(t, m, "u@example.org", false, "Subject: ham\r\n\r\nham words")
	v, _ = (&Classifier{Model: m}).Classify("u@example.org", tokensOf(t, "Subject: spam\r\n\r\nspam words"))
	if !v.Spam {
		t.Errorf("at MinTrained with the user's: %+v", v)
	}
	// Threshold is the caller's.
	v, _ = (&Classifier{Model: m, Threshold: 1.01}).Classify("u@example.org", tokensOf(t, "Subject: spam\r\n\r\nspam words"))
	if v.Spam {
		t.Error("threshold above 1 still says spam")
	}
}

func TestEvents(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	e := TrainEvent("u@example.org", true, true, []uint64{1, 2}, now).GetSpamTrained()
	if e.GetUser() != "u@example.org" || !e.GetSpam() || !e.GetRetrain() || len(e.GetTokens()) != 2 || e.GetTrainedUnix() != now.Unix() {
		t.Errorf("TrainEvent = %v", e)
	}
	p := PruneEvent("", 3, now).GetSpamPruned()
	if p.GetUser() != "" || p.GetMaxCount() != 3 || p.GetSeenBeforeUnix() != now.Unix() {
		t.Errorf("PruneEvent = %v", p)
	}
	if _, err := evlog.EncodeBatch(&evlog.Batch{Events: []*evlog.Event{TrainEvent("", false, false, nil, now)}}); err != nil {
		t.Error(err)
	}
}

package bayes

import "github.com/surat-mail/surat/mailbox"

// StoreModel is the Model of a node's store: the replicated models that
// SpamTrained and SpamPruned build (package mailbox keeps them apart from
// this package's types, so it need not import it).
type StoreModel struct{ Store *mailbox.Store }

// SpamCounts implements Model.
func (m StoreModel) SpamCounts(user string, tokens []uint64) ([]Counts, Totals, error) {
	c, t, err := m.Store.SpamCounts(user, tokens)
	if err != nil {
		return nil, Totals{}, err
	}
	out := make([]Counts, len(c))
	for i, x := range c {
		out[i] = Counts{Spam: x.Spam, Ham: x.Ham}
	}
	return out, Totals{Spam: t.Spam, Ham: t.Ham}, nil
}

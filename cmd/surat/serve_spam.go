package main

import (
	"bytes"
	"log/slog"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/imap"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/spam"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// spamCheck is the built-in classifier's check, the last on the MX port
// (it reflects every earlier check's Junk in X-Spam-Status); none with
// --spam-classifier=false.
func spamCheck(cfg *serveConfig, store *mailbox.Store, logger *slog.Logger) []pipeline.Check {
	if !cfg.SpamClassifier {
		logger.Info("the spam classifier is off (--spam-classifier=false): MX mail gets no X-Spam-Status")
		return nil
	}
	return []pipeline.Check{&spam.Check{
		Classifier: &bayes.Classifier{Model: bayes.StoreModel{Store: store}, Threshold: cfg.SpamThreshold},
		Threshold:  cfg.SpamThreshold,
		Resolver:   cfg.Resolver,
		Logger:     logger.With("component", "spam"),
	}}
}

// spamLearner trains users' models from their IMAP moves into and out of
// Junk; nil with --spam-classifier=false.
func spamLearner(cfg *serveConfig, store *mailbox.Store, p propose.Proposer, logger *slog.Logger) imap.SpamLearner {
	if !cfg.SpamClassifier {
		return nil
	}
	return &spam.Learner{Store: store, Proposer: p, Logger: logger.With("component", "spam")}
}

// spamModels serves the admin API's /v1/spam/ over the store's models.
type spamModels struct{ store *mailbox.Store }

var _ admin.SpamModels = spamModels{}

func (s spamModels) TrainEvent(user string, isSpam bool, message []byte) (*evlog.Event, error) {
	j := spam.Ham
	if isSpam {
		j = spam.Spam
	}
	return spam.Event(user, j, bytes.NewReader(message), time.Now())
}

func spamModelOf(m mailbox.SpamModelStatus) admin.SpamModel {
	return admin.SpamModel{User: m.User, Spam: m.Spam, Ham: m.Ham, Tokens: m.Tokens, Bytes: m.Bytes}
}

func (s spamModels) SpamStatus(user string) (admin.SpamModel, error) {
	m, err := s.store.SpamStatus(user)
	return spamModelOf(m), err
}

func (s spamModels) SpamModels() ([]admin.SpamModel, error) {
	ms, err := s.store.SpamModels()
	out := make([]admin.SpamModel, 0, len(ms))
	for _, m := range ms {
		out = append(out, spamModelOf(m))
	}
	return out, err
}

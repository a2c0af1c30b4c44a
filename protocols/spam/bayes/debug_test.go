package bayes

// tokenStrings returns the token strings of a message, in the order found.
func tokenStrings(msg string, features ...string) []string {
	var strs []string
	t := &Tokenizer{strs: &strs}
	t.Write([]byte(msg))
	for _, f := range features {
		t.AddFeature(f)
	}
	t.Tokens()
	return strs
}

package wire

// ReadCancelUpdate reads the arguments of CANCELUPDATE (RFC 5267 §4.5)
// through the end of the command: the tags of the search contexts to end.
//
//	cancelupdate = "CANCELUPDATE" 1*(SP quoted)
//
// A literal is accepted for a tag too (a string), as for any quoted.
func (d *Decoder) ReadCancelUpdate() ([]string, error) {
	var tags []string
	for {
		if err := d.SP(); err != nil {
			return nil, err
		}
		t, err := d.String()
		if err != nil {
			return nil, err
		}
		tags = append(tags, t)
		if len(tags) > maxCancelTags {
			return nil, syntaxf("Too many tags in CANCELUPDATE")
		}
		b, err := d.peek()
		if err != nil {
			return nil, err
		}
		if b != ' ' {
			return tags, d.End()
		}
	}
}

// maxCancelTags bounds a CANCELUPDATE's tags (a session holds far fewer
// contexts).
const maxCancelTags = 100

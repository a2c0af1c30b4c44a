package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

type setting struct {
	name, value string
	line        int
}

// readConfigFile reads "name = value" lines; names are serve's flag names
// without dashes, '#' starts a comment (whole line, or after whitespace),
// and a value may be quoted with "..." to keep a '#' or surrounding spaces.
func readConfigFile(path string) ([]setting, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	var out []setting
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want name = value", path, n)
		}
		name = strings.TrimPrefix(strings.TrimSpace(name), "--")
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, `"`) {
			end := strings.IndexByte(value[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated quote", path, n)
			}
			if rest := strings.TrimSpace(value[end+2:]); rest != "" && rest[0] != '#' {
				return nil, fmt.Errorf("%s:%d: text after the quoted value", path, n)
			}
			value = value[1 : end+1]
		} else if i := strings.Index(value, " #"); i >= 0 {
			value = strings.TrimSpace(value[:i])
		} else if i := strings.Index(value, "\t#"); i >= 0 {
			value = strings.TrimSpace(value[:i])
		}
		if name == "" {
			return nil, fmt.Errorf("%s:%d: missing name", path, n)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s already set on line %d", path, n, name, prev)
		}
		seen[name] = n
		out = append(out, setting{name: name, value: value, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return out, nil
}

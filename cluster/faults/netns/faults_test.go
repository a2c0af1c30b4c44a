package netns

import (
	"strings"
	"testing"
)

var testNodes = []string{"h1", "h2", "h3", "c1"}

func TestValidateSplit(t *testing.T) {
	tests := []struct {
		name    string
		groups  [][]string
		wantErr string // "" for valid
	}{
		{"minority and majority", [][]string{{"h1"}, {"h2", "h3", "c1"}}, ""},
		{"three ways", [][]string{{"h1"}, {"h2"}, {"h3", "c1"}}, ""},
		{"one group", [][]string{{"h1", "h2", "h3", "c1"}}, ""},
		{"unknown node", [][]string{{"h1", "h9"}, {"h2", "h3", "c1"}}, `unknown node "h9"`},
		{"twice", [][]string{{"h1", "h2"}, {"h2", "h3", "c1"}}, "h2 is in groups 1 and 2"},
		{"left out", [][]string{{"h1"}, {"h2", "h3"}}, "c1 is in no group"},
		{"empty group", [][]string{{"h1", "h2", "h3", "c1"}, {}}, "group 2 is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateSplit(testNodes, tc.groups)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid split rejected: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRenderFaults(t *testing.T) {
	const reset = "table bridge surat_faults\ndelete table bridge surat_faults\n"
	tests := []struct {
		name  string
		state faultState
		rules []string // the chain's rules in order; nil means no table
	}{
		{"healed", faultState{}, nil},
		{"isolate", faultState{isolated: map[string]bool{"h2": true}}, []string{
			`iifname "h2" drop`, `oifname "h2" drop`,
		}},
		{"split", faultState{groups: [][]string{{"h1", "c1"}, {"h2", "h3"}}}, []string{
			`iifname "h1" oifname "h2" drop`, `iifname "h1" oifname "h3" drop`,
			`iifname "h2" oifname "h1" drop`, `iifname "h2" oifname "c1" drop`,
			`iifname "h3" oifname "h1" drop`, `iifname "h3" oifname "c1" drop`,
			`iifname "c1" oifname "h2" drop`, `iifname "c1" oifname "h3" drop`,
		}},
		{"one group drops nothing", faultState{groups: [][]string{testNodes}}, nil},
		{"losses sorted", faultState{loss: map[link]int{
			{from: "h2", to: "h1"}: 100, {}: 30, {from: "h1"}: 5, {to: "h3"}: 50,
		}}, []string{
			`numgen random mod 100 < 30 drop`,
			`oifname "h3" numgen random mod 100 < 50 drop`,
			`iifname "h1" numgen random mod 100 < 5 drop`,
			`iifname "h2" oifname "h1" drop`,
		}},
		{"isolate before loss", faultState{isolated: map[string]bool{"c1": true}, loss: map[link]int{{}: 10}}, []string{
			`iifname "c1" drop`, `oifname "c1" drop`, `numgen random mod 100 < 10 drop`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderFaults(testNodes, tc.state)
			want := reset
			if tc.rules != nil {
				want += "table bridge surat_faults {\n\tchain drop_frames {\n" +
					"\t\ttype filter hook forward priority 0; policy accept;\n" +
					"\t\tether type arp accept\n"
				for _, r := range tc.rules {
					want += "\t\t" + r + "\n"
				}
				want += "\t}\n}\n"
			}
			if got != want {
				t.Fatalf("script:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

package clustertest

import "testing"

func TestPorts(t *testing.T) {
	ports, err := Ports(12)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: not distinct positive ports", ports)
		}
		seen[p] = true
	}
	if len(ports) != 12 {
		t.Fatalf("%d ports, want 12", len(ports))
	}
}

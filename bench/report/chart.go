package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/surat-mail/surat/bench/failover"
)

var (
	fairColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // Surat / peer
	fastColor = color.RGBA{R: 0xa6, G: 0xc8, B: 0xe6, A: 0xff} // Surat / peer's fast path
	killColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	runColors = []color.Color{
		color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
		color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	}
)

// WriteChart draws summary.png: on the left the Surat/peer ratios of the
// rows, bars around parity on a log₂ axis (1.0× in the middle), on the
// right the SMTP acknowledgements per second around each leader kill of
// the failover records. Either panel is left out when it has no data.
func WriteChart(w io.Writer, rows []Row, recs []failover.Record) error {
	var plots []*plot.Plot
	if p, err := ratioPlot(rows); err != nil {
		return err
	} else if p != nil {
		plots = append(plots, p)
	}
	if p, err := timelinePlot(recs); err != nil {
		return err
	} else if p != nil {
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return fmt.Errorf("report: nothing to chart")
	}
	width := vg.Length(len(plots)) * 16 * vg.Centimeter
	img := vgimg.New(width, 12*vg.Centimeter)
	dc := draw.New(img)
	// A white page: PNG viewers in dark mode would show transparency black.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3,
		PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	for i, p := range plots {
		p.Draw(tiles.At(dc, i, 0))
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("report: write png: %w", err)
	}
	return nil
}

// ratioPlot: one horizontal pair of bars per workload, log₂(ratio), so
// that twice as fast and half as fast are the same length either side of
// the 1.0× line.
func ratioPlot(rows []Row) (*plot.Plot, error) {
	var names []string
	var fair, fast plotter.Values
	var labels []string
	for _, r := range rows {
		if !r.Headline || (r.Ratio(r.Peer) == 0 && r.Ratio(r.Fast) == 0) {
			continue
		}
		names = append(names, r.Short)
		fair = append(fair, log2(r.Ratio(r.Peer)))
		fast = append(fast, log2(r.Ratio(r.Fast)))
		labels = append(labels, ratioLabel(r.Ratio(r.Peer)))
	}
	if len(names) == 0 {
		return nil, nil
	}
	// Top to bottom in table order: the Y axis grows upwards.
	slices.Reverse(names)
	slices.Reverse(fair)
	slices.Reverse(fast)
	slices.Reverse(labels)
	p := plot.New()
	p.Title.Text = "Surat speed / peer (≥ 1× : Surat faster)"
	p.X.Label.Text = "ratio (log scale)"
	w := vg.Points(9)
	b1, err := plotter.NewBarChart(fair, w)
	if err != nil {
		return nil, err
	}
	b1.Horizontal, b1.Color, b1.Offset = true, fairColor, w/2
	b1.LineStyle.Width = 0
	b2, err := plotter.NewBarChart(fast, w)
	if err != nil {
		return nil, err
	}
	b2.Horizontal, b2.Color, b2.Offset = true, fastColor, -w/2
	b2.LineStyle.Width = 0
	p.Add(b1, b2)
	p.Legend.Add("vs peer (fair: end to end / TLS)", b1)
	p.Legend.Add("vs peer's fast path (queued / plaintext)", b2)
	// Bottom right: the ratios' labels sit at the top of the bars.
	p.Legend.Top = false
	p.Legend.Left = false
	p.NominalY(names...)

	lo, hi := -1.0, 1.0
	for _, v := range append(slices.Clone(fair), fast...) {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)+1 // room for the labels and legend
	p.X.Min, p.X.Max = lo, hi
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		ticks = append(ticks, plot.Tick{Value: e, Label: ratioLabel(math.Exp2(e))})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	parity, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.6}, {X: 0, Y: float64(len(names)) - 0.4}})
	if err != nil {
		return nil, err
	}
	parity.Color, parity.Width = color.Black, vg.Points(1.2)
	parity.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(parity)
	// The fair ratio written beside its bar.
	var xys plotter.XYLabels
	for i, v := range fair {
		x := math.Max(v, 0) + 0.1
		xys.XYs = append(xys.XYs, plotter.XY{X: x, Y: float64(i) + 0.2})
		xys.Labels = append(xys.Labels, labels[i])
	}
	lab, err := plotter.NewLabels(xys)
	if err != nil {
		return nil, err
	}
	p.Add(lab)
	return p, nil
}

func log2(r float64) float64 {
	if r <= 0 {
		return 0
	}
	return math.Log2(r)
}

func ratioLabel(r float64) string {
	switch {
	case r <= 0:
		return "–"
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 1:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}

// timelinePlot: acknowledgements per second per bucket, time from the
// kill, one line per run; the kill at 0 and each run's new leader marked.
func timelinePlot(recs []failover.Record) (*plot.Plot, error) {
	var runs []failover.Record
	for _, r := range recs {
		if r.Kind == "timeline" && r.SMTP != nil && r.SMTP.Timeline != nil && len(r.SMTP.Timeline.Accepted) > 1 {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("SMTP during a leader SIGKILL (%d senders, retries on the next MX)", runs[0].SMTP.Senders)
	p.X.Label.Text = "seconds from the kill"
	p.Y.Label.Text = "messages accepted per second"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	ymax := 0.0
	for i, r := range runs {
		tl := r.SMTP.Timeline
		sec := tl.BucketMs / 1000
		var acc, failed plotter.XYs
		// The last bucket is partial: left out.
		for j := 0; j < len(tl.Accepted)-1; j++ {
			x := (float64(j)*tl.BucketMs - r.KillAtMs) / 1000
			acc = append(acc, plotter.XY{X: x, Y: float64(tl.Accepted[j]) / sec})
			failed = append(failed, plotter.XY{X: x, Y: float64(tl.Failed[j]) / sec})
			ymax = math.Max(ymax, float64(tl.Accepted[j])/sec)
		}
		l, err := plotter.NewLine(acc)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = runColors[i%len(runColors)], vg.Points(1.2)
		l.StepStyle = plotter.PostStep
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("run %d: accepted/s (new leader +%.0f ms)", r.Round, r.ElectedMs), l)
		if i == 0 {
			f, err := plotter.NewLine(failed)
			if err != nil {
				return nil, err
			}
			f.Color, f.Width = killColor, vg.Points(0.8)
			f.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
			f.StepStyle = plotter.PostStep
			p.Add(f)
			p.Legend.Add(fmt.Sprintf("run %d: failed attempts/s (retried)", r.Round), f)
		}
	}
	top := ymax * 1.35 // room for the legend
	kill, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: top}})
	if err != nil {
		return nil, err
	}
	kill.Color, kill.Width = killColor, vg.Points(1.5)
	p.Add(kill)
	p.Legend.Add("leader SIGKILLed", kill)
	for i, r := range runs {
		x := r.ElectedMs / 1000
		m, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top * 0.8}})
		if err != nil {
			return nil, err
		}
		m.Color, m.Width = runColors[i%len(runColors)], vg.Points(0.8)
		m.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(m)
	}
	p.Y.Min, p.Y.Max = 0, top
	p.Y.Tick.Marker = plot.ConstantTicks(roundTicks(top))
	return p, nil
}

// roundTicks labels 0 to top in four to eight round steps (1, 2 or 5
// times a power of ten), with no more decimals than the step has.
func roundTicks(top float64) []plot.Tick {
	if top <= 0 {
		return nil
	}
	step := math.Pow(10, math.Floor(math.Log10(top/4)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top/(step*m) <= 8 {
			step *= m
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for i := 0; float64(i)*step <= top*(1+1e-9); i++ {
		v := float64(i) * step
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.*f", decimals, v)})
	}
	return ticks
}

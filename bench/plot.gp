# The chart of bench/RESULTS.md: the three servers side by side. Called by report.py with
# tput and mem (rows: "figure" causerie prosody ejabberd) and outfile.
set terminal pngcairo size 1600,600 font "sans,10" background rgb "white"
set output outfile
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left
set grid ytics
set multiplot layout 1,2 title "Causerie, Prosody and ejabberd on one core (same machine, same run)"

set title "Throughput (higher is better, log scale)"
set logscale y
set ylabel "per second"
set xtics rotate by -30 font ",9"
set yrange [1:*]
plot tput using 2:xtic(1) title "Causerie" lc rgb "#2b7bba", \
     '' using 3 title "Prosody" lc rgb "#e08a1e", \
     '' using 4 title "ejabberd" lc rgb "#5aa02c"

unset logscale y
set key top right
set title "Idle session memory (lower is better)"
set ylabel "KB of server RSS per session"
set yrange [0:*]
plot mem using 2:xtic(1) title "Causerie" lc rgb "#2b7bba", \
     '' using 3 title "Prosody" lc rgb "#e08a1e", \
     '' using 4 title "ejabberd" lc rgb "#5aa02c"
unset multiplot

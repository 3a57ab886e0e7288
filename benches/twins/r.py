import sys
from pyosys import libyosys as ys
d = ys.Design()
ys.run_pass('script /tmp/ys/s.ys', d)

"""The applications around the library: the ``lipanomaly`` command, its demo and report.

- :mod:`.cli`: the command (argparse and printing);
- :mod:`.console`: what the command shows and reads;
- :mod:`.demo`: the demo experiment;
- :mod:`.report`: figures, tables and the HTML report.

Nothing in the library imports this sub-package.
"""

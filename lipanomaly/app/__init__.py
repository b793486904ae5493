"""The applications around the library: the ``lipanomaly`` command, its demo and report.

- :mod:`.cli`: the command's parser and exit codes;
- :mod:`.commands`: one module per subcommand, ``run(args, console)``;
- :mod:`.common`: what several subcommands share (the model, the destination checks,
  the calibration on references);
- :mod:`.console`: what the command shows and reads;
- :mod:`.demo`: the demo experiment;
- :mod:`.report`: figures, tables and the HTML report.

Nothing in the library imports this sub-package.
"""

"""Independent oracles for the test suites: what a real compiler says about C.

Nothing here uses xenabi's parser, preprocessor, prelude or layout engine;
the only thing taken from xenabi is the table of clang target triples.
"""

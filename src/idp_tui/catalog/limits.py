"""The budgets a local catalog is read within: a catalog is written by other people.

A catalog folder on a shared machine may hold a FIFO, a symlink to ``/dev/zero``, a glob over the whole disk,
a YAML alias bomb or a placeholder naming a host file. Every read is confined to the catalog root and every
walk or expansion stops at one of these numbers; reaching one is reported as a problem with its ``file:line``,
never a hang, a crash or an answer that silently lacks entities. They are read at call time (``limits.X``),
so a test can lower them.
"""

from __future__ import annotations

MIB = 1024 * 1024

# A catalog file (found in a folder, named on the command line or by a Location) larger than this is not read.
MAX_CATALOG_FILE_BYTES = 8 * MIB

# A file read through a ``$text``/``$json``/``$yaml`` placeholder larger than this is not read.
MAX_PLACEHOLDER_FILE_BYTES = 8 * MIB

# Everything one catalog file's placeholders include, together (each reference counts: one spec included
# a thousand times is a thousand copies in the output), and everything a whole catalog's do. Measured as
# JSON text.
MAX_INCLUDED_BYTES_PER_FILE = 16 * MIB
MAX_INCLUDED_BYTES_PER_CATALOG = 256 * MIB

# The nodes a YAML file's documents produce with their aliases expanded (counted only where aliases are used;
# a string counts one node per 16 characters, so an alias of a long string weighs what it prints).
MAX_EXPANDED_NODES = 1_000_000

# The nodes (scalars, sequences and mappings) one YAML document may hold, counted as libyaml composes it:
# composing holds every node of a document at once (about 340 bytes each) before anything can judge it, and an
# 8 MiB file of `{a,a,…}` took 2.7 GB and two minutes before its duplicate key was found. A Kubernetes object
# fits in etcd's 1.5 MiB; the ones people write hold a few thousand nodes.
MAX_DOCUMENT_NODES = 500_000

# The nodes aliases may add over a whole catalog (many files each just under the file's budget must not add
# up to a print of gigabytes). Merge keys sharing a few fields per entity stay far below it.
MAX_ALIAS_NODES_PER_CATALOG = 2_000_000

# A Location target glob stops after matching this many files.
MAX_GLOB_FILES = 50_000

# All the Location globs of one catalog together list at most this many folders (many patterns over one big
# tree must not multiply the walk).
MAX_GLOB_FOLDERS = 100_000

# A catalog stops reading after this many files (found in folders or named by Locations).
MAX_CATALOG_FILES = 100_000

# Integers beyond JavaScript's Number.MAX_SAFE_INTEGER cannot travel through JSON exactly (Backstage is
# JavaScript): such a value is a problem to quote, not a number silently rounded or a 5,000-digit print.
MAX_SAFE_INTEGER = 2**53 - 1

# Nesting allowed in a document, and in a value a ``$json``/``$yaml`` placeholder includes. Descriptors nest
# a dozen levels; a thousand (libyaml's own limit) would overflow the stack of whatever walks them later,
# depending on how deep that caller already is.
MAX_NESTING_DEPTH = 100

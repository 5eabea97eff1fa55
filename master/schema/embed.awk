# SPDX-License-Identifier: GPL-2.0-or-later
# Turn the numbered migration files into a C array of strings, in order.
BEGIN {
	print "/* Generated from the SQL files of master/schema: do not edit. */"
	print "static const char *const store_migrations[] = {"
}
FNR == 1 && NR != 1 { print "\t\"\"," }
/^--/ { next }
{
	gsub(/\\/, "\\\\")
	gsub(/"/, "\\\"")
	print "\t\"" $0 "\\n\""
}
END {
	print "\t\"\",\n\tNULL,\n};"
}

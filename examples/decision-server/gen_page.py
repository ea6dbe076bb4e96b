"""Turn a static file into a C source defining it as a byte array, so the
server serves its page without reading files at run time.

usage: gen_page.py INPUT OUTPUT SYMBOL"""
import sys

src, dst, sym = sys.argv[1:4]
data = open(src, "rb").read()
rows = [", ".join("0x%02x" % b for b in data[i:i + 16]) for i in range(0, len(data), 16)]
with open(dst, "w") as f:
    f.write("/* Generated from %s by gen_page.py: edit that file instead. */\n"
            % src.rsplit("/", 1)[-1])
    f.write("#include <stddef.h>\n\n")
    f.write("extern const unsigned char %s[];\nextern const size_t %s_len;\n" % (sym, sym))
    f.write("const unsigned char %s[] = {\n    %s, 0x00\n};\n" % (sym, ",\n    ".join(rows)))
    f.write("const size_t %s_len = %d;\n" % (sym, len(data)))

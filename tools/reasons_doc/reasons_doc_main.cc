// tradein-reasons-doc: writes docs/reasons.md, the reason catalogue (common/reasons.h) as a table.
//
//   tradein-reasons-doc docs/reasons.md   # or `ninja -C build/test reasons_doc`
//   tradein-reasons-doc                   # to stdout
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/reasons.h"

int main(int argc, char** argv) {
  const std::string markdown = tradein::RenderReasonsMarkdown();
  if (argc < 2) {
    std::cout << markdown;
    return 0;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << markdown;
  out.close();
  if (!out) {
    std::fprintf(stderr, "tradein-reasons-doc: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}

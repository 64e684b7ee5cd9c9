/* font.h: the tiny 5x7 bitmap font the plots label their axes with
 * (digits, A-Z, a little punctuation; lower case draws as upper case).
 * Internal header. */
#ifndef CLGAN_IO_FONT_H
#define CLGAN_IO_FONT_H

#include <stdint.h>

#define CLGAN_FONT_W 5
#define CLGAN_FONT_H 7
/* Advance from one character to the next, in font pixels. */
#define CLGAN_FONT_ADVANCE 6

/* Row `row` (0 = top, < CLGAN_FONT_H) of the glyph of c as 5 bits, bit 4
 * the leftmost column. Characters the font lacks draw as '?'; ' ' is blank. */
unsigned clgan_font_row(int c, int row);

#endif

/* The web app embedded at build time (tools/embed generates build/gen/assets.c). */
#ifndef NOOM_ASSETS_H
#define NOOM_ASSETS_H

#include "sio.h"

extern const sio_asset_t noom_assets[];
extern const size_t noom_assets_count;

#endif

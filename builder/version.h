#ifndef OCB_VERSION_H
#define OCB_VERSION_H
#define OCB_VERSION "0.1.0"
#endif

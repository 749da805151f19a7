/* Scope-bound ownership (crun, bubblewrap, systemd).
 *
 *   cleanup_free char *p = NULL;      freed at scope exit
 *   cleanup_close int fd = -1;        closed at scope exit if >= 0
 *   return steal_pointer(&p);         hand ownership to the caller
 */
#ifndef OCB_CLEANUP_H
#define OCB_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void ocb_freep(void *p)
{
	free(*(void **)p);
}

static inline void ocb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void ocb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void *ocb_steal_pointer(void *pp)
{
	void **p = (void **)pp;
	void *v = *p;
	*p = NULL;
	return v;
}

static inline int ocb_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define cleanup_free	  __attribute__((cleanup(ocb_freep)))
#define cleanup_close	  __attribute__((cleanup(ocb_closep)))
#define cleanup_fclose	  __attribute__((cleanup(ocb_fclosep)))
#define steal_pointer(pp) ocb_steal_pointer(pp)
#define steal_fd(pfd)	  ocb_steal_fd(pfd)

/* Declare a cleanup helper for a library type:
 *   OCB_DEFINE_CLEANUP(json_t *, json_decref)  ->  cleanup_json_decref json_t *j; */
#define OCB_DEFINE_CLEANUP_FUNC(type, func)                                                                  \
	static inline void func##p(type *p)                                                                  \
	{                                                                                                    \
		if (*p)                                                                                      \
			func(*p);                                                                            \
	}

#endif

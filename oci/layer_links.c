/* Hardlink tracking for the layer writer: an open-addressing hash table from
 * (dev, ino) to the tar name the inode was first written under.  It grows
 * with the number of multiply-linked files, not with the layer's size. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/layer_impl.h"
#include "oci/banned.h"

static size_t link_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ (h >> 29));
}

static struct layer_link *link_slot(struct layer_link *slots, size_t cap, dev_t dev, ino_t ino)
{
	size_t i = link_hash(dev, ino) & (cap - 1);

	while (slots[i].name && !(slots[i].dev == dev && slots[i].ino == ino))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

const char *layer_links_find(const struct layer_links *l, dev_t dev, ino_t ino)
{
	if (l->cap == 0)
		return NULL;
	return link_slot(l->slots, l->cap, dev, ino)->name;
}

static int links_grow(struct layer_links *l, struct ocb_error *err)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct layer_link *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	for (size_t i = 0; i < l->cap; i++)
		if (l->slots[i].name)
			*link_slot(slots, cap, l->slots[i].dev, l->slots[i].ino) = l->slots[i];
	free(l->slots);
	l->slots = slots;
	l->cap = cap;
	return 0;
}

int layer_links_add(struct layer_links *l, dev_t dev, ino_t ino, const char *name, struct ocb_error *err)
{
	struct layer_link *s;
	char *copy;

	if ((l->n + 1) * 2 > l->cap && links_grow(l, err) < 0)
		return -1;
	copy = strdup(name);
	if (!copy)
		return ocb_error_set(err, OCB_EFAIL, ENOMEM, "out of memory");
	s = link_slot(l->slots, l->cap, dev, ino);
	if (!s->name)
		l->n++;
	free(s->name);
	s->dev = dev;
	s->ino = ino;
	s->name = copy;
	return 0;
}

void layer_links_release(struct layer_links *l)
{
	for (size_t i = 0; i < l->cap; i++)
		free(l->slots[i].name);
	free(l->slots);
	l->slots = NULL;
	l->cap = l->n = 0;
}

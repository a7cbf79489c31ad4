// MongoDB stand-in for Eventloom's tests: de.bwaldvogel:mongo-java-server with its memory backend
// and oplog enabled (change streams). scripts/services/mongodb.sh compiles this file once (javac,
// cached under .services/mongodb/) and runs it; it also runs as a single-file source program:
//   java -cp <classpath> Launcher.java [port]
//
// Environment: MONGODB_HOST (default 127.0.0.1), MONGODB_PORT (default 27017),
//   MONGODB_STANDIN_VERSION (default 4.4.0) and MONGODB_STANDIN_WIRE_VERSION (default 9): what
//   buildInfo / isMaster advertise. Wire 9 (MongoDB 4.4) is the floor of the Node driver 7.x
//   (6.x accepts 8..27); the library on its own would say "5.0.0" with wire 8.
//   MONGODB_STANDIN_THREADS (default 64): network worker threads, see fix (2).
//
// Small fixes on top of the library, each for a bug measured with the Node driver (details, and
// the differences from a real MongoDB that remain, are in STANDIN-NOTES.md):
//  1. `hello` is answered (the library only knows the legacy `isMaster`).
//  2. getMore on a change stream waits for new oplog entries up to maxTimeMS (default 1000 ms)
//     like a real server's awaitData cursor. The library answers at once with an empty batch,
//     so every open change stream made the driver spin ~700 getMores/s, burning a core. The
//     wait parks the connection's network thread (as a real server parks the connection), and
//     a thread serves several connections, so there are many (idle, cheap) worker threads.
//  3. findAndModify returns a copy of the document. The library returned the live stored
//     document, serialized after the collection lock was released, so concurrent $inc counters
//     could hand out the same value twice.
//  4. findAndModify (findOneAndUpdate/Replace/Delete, also when it upserts) writes the oplog, so
//     change streams see its insert/update/delete. The library wrote nothing for it.
//  5. Change events get the fields of a real server's events, taken from their oplog entry:
//     `ns`, `wallTime`, `documentKey: {_id}` for updates (the library put the update spec
//     there), `operationType: 'replace'` with the new document for replacements (the library
//     said 'update'), `updateDescription` for updates, no `fullDocument` on update/delete events
//     unless `fullDocument: 'updateLookup'`, and a collection's stream no longer sees the drop of
//     other collections of its database. This happens after the library ran the stream's own
//     pipeline: a $match/$project on these fields in watch([...]) sees the library's shape.
//  6. `resumeAfter` is handled like `startAfter`. The library answered `invalidate` (and closed
//     the cursor) when the collection had been dropped at any time BEFORE the token, e.g. by a
//     test's dropDatabase() before it was recreated; the driver's own automatic resume uses
//     resumeAfter too.
// All data lives in memory and is lost when the process stops.

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.OplogCursor;
import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

public class Launcher {

    record AdvertisedVersion(List<Integer> versionArray, int wireVersion) implements MongoVersion {
        @Override public List<Integer> getVersionArray() { return versionArray; }
        @Override public int getWireVersion() { return wireVersion; }
        @Override public String toVersionString() { // "4.4.0" like a real server, not "4.4.0.0"
            return String.join(".", versionArray.subList(0, 3).stream().map(String::valueOf).toList());
        }
    }

    /** A write made by a findAndModify: 'i' (value = inserted document), 'u' or 'd' (value = _id). */
    record Change(char op, Object value) {}

    /** What fix (5) needs to know about an open change stream cursor (collection null: db.watch()). */
    record ChangeStream(String collection, boolean updateLookup) {}

    static final class StandInBackend extends MemoryBackend {
        private static final long DEFAULT_AWAIT_MS = 1000; // a real server's awaitData default
        private static final String OPLOG_NS = "local." + OPLOG_COLLECTION_NAME;

        private final Map<Long, Document> oplogByTimestamp = new ConcurrentHashMap<>();
        private final Map<Long, ChangeStream> streams = new ConcurrentHashMap<>();

        @Override
        public MemoryDatabase openOrCreateDatabase(String databaseName) {
            return new MemoryDatabase(databaseName, getCursorRegistry()) {
                @Override
                protected MemoryCollection openOrCreateCollection(String name, CollectionOptions options) {
                    return new MemoryCollection(this, name, options, cursorRegistry) {
                        private final boolean isOplog = getFullName().equals(OPLOG_NS);
                        private List<Change> changes; // writes of the running findAndModify, else null

                        @Override
                        public synchronized Document findAndModify(Document query) {
                            Document result;
                            changes = new ArrayList<>();
                            try {
                                result = super.findAndModify(query);
                                writeOplog(query, changes); // fix (4)
                            } finally {
                                changes = null;
                            }
                            if (result.get("value") instanceof Document value) { // fix (3)
                                result.put("value", value.cloneDeeply());
                            }
                            return result;
                        }

                        @Override
                        public synchronized void addDocument(Document document) {
                            super.addDocument(document);
                            if (changes != null) changes.add(new Change('i', document)); // upsert
                            if (isOplog && document.get("ts") instanceof BsonTimestamp ts) {
                                oplogByTimestamp.put(ts.getValue(), document); // for fix (5)
                            }
                        }

                        @Override
                        protected void handleUpdate(Integer position, Document oldDocument, Document newDocument) {
                            super.handleUpdate(position, oldDocument, newDocument);
                            if (changes != null) changes.add(new Change('u', newDocument.get("_id")));
                        }

                        @Override
                        public synchronized void removeDocument(Document document) {
                            if (changes != null) changes.add(new Change('d', document.get("_id")));
                            super.removeDocument(document);
                        }

                        private void writeOplog(Document query, List<Change> writes) {
                            Document selector = query.get("query") instanceof Document q ? q : new Document();
                            Document update = query.get("update") instanceof Document u ? u : new Document();
                            for (Change change : writes) {
                                switch (change.op()) {
                                    case 'i' -> StandInBackend.this.oplog.handleInsert(getFullName(), List.of((Document) change.value()));
                                    case 'u' -> StandInBackend.this.oplog.handleUpdate(getFullName(), selector, update, List.of(change.value()));
                                    default -> StandInBackend.this.oplog.handleDelete(getFullName(), selector, List.of(change.value()));
                                }
                            }
                        }
                    };
                }
            };
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            if (command.equalsIgnoreCase("hello")) { // fix (1)
                Document isMaster = super.handleCommand(channel, databaseName, "isMaster", query);
                Document hello = new Document("isWritablePrimary", Boolean.TRUE);
                isMaster.forEach((key, value) -> { if (!key.equals("ismaster")) hello.put(key, value); });
                return hello;
            }
            if (command.equalsIgnoreCase("getMore") && isChangeStreamCursor(query.get(command))) {
                return awaitChangeStreamGetMore(channel, databaseName, command, query); // fix (2)
            }
            Document stage = command.equalsIgnoreCase("aggregate") ? changeStreamStage(query) : null;
            if (stage != null && stage.containsKey("resumeAfter") && !stage.containsKey("startAfter")) {
                stage.put("startAfter", stage.remove("resumeAfter")); // fix (6)
            }
            Document response = super.handleCommand(channel, databaseName, command, query);
            if (stage != null && response.get("cursor") instanceof Document cursor) { // fix (5)
                Object target = query.get(command); // a collection name, or 1 for db.watch()
                ChangeStream stream = new ChangeStream(target instanceof String name ? name : null,
                    "updateLookup".equals(stage.get("fullDocument")));
                if (cursor.get("id") instanceof Number id && id.longValue() != 0) streams.put(id.longValue(), stream);
                repairEvents(cursor, "firstBatch", stream);
            } else if (command.equalsIgnoreCase("killCursors") && query.get("cursors") instanceof List<?> ids) {
                ids.forEach(id -> { if (id instanceof Number n) streams.remove(n.longValue()); });
            }
            return response;
        }

        private static Document changeStreamStage(Document aggregate) {
            if (aggregate.get("pipeline") instanceof List<?> pipeline && !pipeline.isEmpty()
                && pipeline.get(0) instanceof Document first && first.get("$changeStream") instanceof Document stage) {
                return stage;
            }
            return null;
        }

        private boolean isChangeStreamCursor(Object cursorId) {
            if (!(cursorId instanceof Number id)) return false;
            try {
                Cursor cursor = getCursorRegistry().getCursor(id.longValue());
                return cursor instanceof OplogCursor;
            } catch (RuntimeException notFound) {
                return false; // the library answers with the proper CursorNotFound error
            }
        }

        private Document awaitChangeStreamGetMore(Channel channel, String databaseName, String command, Document query) {
            long waitMs = query.get("maxTimeMS") instanceof Number n && n.longValue() > 0 ? n.longValue() : DEFAULT_AWAIT_MS;
            long deadline = System.nanoTime() + waitMs * 1_000_000L;
            ChangeStream stream = streams.get(((Number) query.get(command)).longValue());
            while (true) {
                int oplogSizeBefore = oplogSize();
                Document response = super.handleCommand(channel, databaseName, command, query);
                if (!(response.get("cursor") instanceof Document cursor)
                    || !(repairEvents(cursor, "nextBatch", stream) instanceof List<?> batch)
                    || !batch.isEmpty()) {
                    return response;
                }
                // Empty batch: sleep until the oplog grows (cheap O(1) count) or time is up.
                while (oplogSize() == oplogSizeBefore) {
                    if (System.nanoTime() >= deadline || !channel.isActive()) return response;
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return response;
                    }
                }
            }
        }

        private int oplogSize() {
            MongoDatabase local = resolveDatabase("local");
            MongoCollection<?> oplog = local.resolveCollection(OPLOG_COLLECTION_NAME, false);
            return oplog == null ? 0 : oplog.count();
        }

        // ---- fix (5): give change events the shape a real server gives them

        /** Repairs cursor[key] in place; returns the new batch. */
        private Object repairEvents(Document cursor, String key, ChangeStream stream) {
            if (stream == null || !(cursor.get(key) instanceof List<?> events)) return cursor.get(key);
            List<Object> kept = new ArrayList<>(events.size());
            for (Object event : events) {
                if (!(event instanceof Document change) || repairEvent(change, stream)) kept.add(event);
            }
            cursor.put(key, kept);
            return kept;
        }

        /** Returns false when the event must not be delivered on this stream. */
        private boolean repairEvent(Document event, ChangeStream stream) {
            if (!(event.get("_id") instanceof Document token) || !(token.get("_data") instanceof String data)) return true;
            Document entry;
            try {
                entry = oplogByTimestamp.get(Long.parseUnsignedLong(data, 16));
            } catch (NumberFormatException notOurs) {
                return true;
            }
            if (entry == null || !(entry.get("ns") instanceof String ns) || !(entry.get("o") instanceof Document o)) return true;
            String db = ns.substring(0, ns.indexOf('.'));
            String collection = ns.substring(ns.indexOf('.') + 1);
            String op = String.valueOf(entry.get("op"));
            if (op.equals("c")) {
                if (!(o.get("drop") instanceof String dropped)) return true;
                if (stream.collection() != null && !dropped.equals(stream.collection())) return false; // another collection's
                collection = dropped;
            }
            event.put("wallTime", entry.get("wall"));
            event.put("ns", new Document("db", db).append("coll", collection));
            switch (op) {
                case "u" -> repairUpdate(event, entry, o, stream);
                case "d" -> event.remove("fullDocument");
                default -> { }
            }
            return true;
        }

        private static void repairUpdate(Document event, Document entry, Document o, ChangeStream stream) {
            Object id = entry.get("o2") instanceof Document o2 ? o2.get("_id") : null;
            event.put("documentKey", new Document("_id", id));
            boolean replacement = o.keySet().stream().noneMatch(key -> key.startsWith("$"));
            if (replacement) {
                Document full = new Document("_id", id);
                o.forEach((key, value) -> { if (!key.equals("_id")) full.put(key, value); });
                event.put("operationType", "replace");
                event.put("fullDocument", full);
                return;
            }
            // The library's lookup falls back to the $set/$unset values when the document is gone;
            // a real server answers null then.
            Document postImage = stream.updateLookup() && event.get("fullDocument") instanceof Document f
                && f.containsKey("_id") ? f : null;
            if (stream.updateLookup() && postImage == null) event.put("fullDocument", null);
            Document updatedFields = new Document();
            List<String> removedFields = new ArrayList<>();
            o.forEach((operator, spec) -> {
                if (!(spec instanceof Document fields)) return;
                switch (operator) {
                    case "$set" -> updatedFields.putAll(fields);
                    case "$unset" -> removedFields.addAll(fields.keySet());
                    case "$rename" -> fields.forEach((from, to) -> {
                        removedFields.add(from);
                        if (postImage != null) updatedFields.put(String.valueOf(to), valueAt(postImage, String.valueOf(to)));
                    });
                    default -> { // $inc, $max, $push, ...: the new value is only known from the post-image
                        if (postImage != null) fields.keySet().forEach(path -> updatedFields.put(path, valueAt(postImage, path)));
                    }
                }
            });
            event.put("updateDescription", new Document("updatedFields", updatedFields)
                .append("removedFields", removedFields).append("truncatedArrays", List.of()));
            if (!stream.updateLookup()) event.remove("fullDocument");
        }

        private static Object valueAt(Document document, String path) {
            Object value = document;
            for (String part : path.split("\\.")) {
                if (value instanceof Document d) value = d.get(part);
                else if (value instanceof List<?> list && part.chars().allMatch(Character::isDigit)
                    && Integer.parseInt(part) < list.size()) value = list.get(Integer.parseInt(part));
                else return null;
            }
            return value;
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    public static void main(String[] args) throws InterruptedException {
        String host = env("MONGODB_HOST", "127.0.0.1");
        int port = Integer.parseInt(args.length > 0 ? args[0] : env("MONGODB_PORT", "27017"));
        List<Integer> versionArray = new ArrayList<>();
        for (String part : env("MONGODB_STANDIN_VERSION", "4.4.0").split("\\.")) {
            versionArray.add(Integer.parseInt(part));
        }
        while (versionArray.size() < 4) versionArray.add(0); // real servers send 4 numbers
        int wireVersion = Integer.parseInt(env("MONGODB_STANDIN_WIRE_VERSION", "9"));
        int workerThreads = Integer.parseInt(env("MONGODB_STANDIN_THREADS", "64"));

        AdvertisedVersion version = new AdvertisedVersion(List.copyOf(versionArray), wireVersion);
        MongoBackend backend = new StandInBackend();
        backend.version(version);
        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        server.bind(new InetSocketAddress(host, port), 1, workerThreads);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("mongo-java-server: shutting down");
            server.shutdownNow();
            stopped.countDown();
        }, "shutdown"));
        System.out.printf("mongo-java-server started on %s:%d (version %s, maxWireVersion %d, memory backend, oplog on)%n",
            host, port, version.toVersionString(), wireVersion);
        System.out.flush();
        stopped.await();
    }
}

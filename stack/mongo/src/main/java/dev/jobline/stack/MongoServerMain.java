package dev.jobline.stack;

import de.bwaldvogel.mongo.MongoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.h2.mvstore.MVStore;

/**
 * Runs mongo-java-server on one address with its H2 backend (CompactH2Backend: documents and index keys in a compact
 * encoding rather than Java serialization), so that data survives a restart. Arguments: host, port and the data file.
 * Stops cleanly on SIGTERM: stops listening, then commits and closes the store.
 */
public final class MongoServerMain {
    private MongoServerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: MongoServerMain <host> <port> <data file>");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        Path file = Path.of(args[2]).toAbsolutePath();
        Files.createDirectories(file.getParent());

        MVStore store = new MVStore.Builder().fileName(file.toString()).open();
        CompactH2Backend backend;
        try {
            backend = CompactH2Backend.open(store);
        } catch (IllegalStateException e) {
            store.close();
            System.err.printf("cannot use %s: %s%n", file, e.getMessage());
            System.exit(1);
            return;
        }
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        System.out.printf("mongo-java-server listening on %s:%d, data in %s%n", host, port, file);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            stopped.countDown();
            System.out.println("mongo-java-server stopped");
        }, "shutdown"));
        stopped.await();
    }
}

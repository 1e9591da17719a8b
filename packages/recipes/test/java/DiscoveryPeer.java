import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

/**
 * A Curator x-discovery peer for the interop test, driven one JSON command per stdin line,
 * answering one JSON line per command: register, update (updateService), unregister, query
 * (instances of a name as Curator reads and re-serializes them), queryOne (queryForInstance by
 * name and id), names.
 */
public class DiscoveryPeer {
  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String basePath = args[1];
    ObjectMapper mapper = new ObjectMapper();
    CuratorFramework client = CuratorFrameworkFactory.newClient(connect, new RetryNTimes(10, 200));
    client.start();
    client.blockUntilConnected();
    JsonInstanceSerializer<Map> serializer = new JsonInstanceSerializer<>(Map.class);
    ServiceDiscovery<Map> discovery = ServiceDiscoveryBuilder.builder(Map.class)
        .client(client).basePath(basePath).serializer(serializer).build();
    discovery.start();
    Map<String, ServiceInstance<Map>> mine = new HashMap<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("{\"ready\":true}");
    System.out.flush();
    String line;
    while ((line = in.readLine()) != null) {
      ObjectNode reply = mapper.createObjectNode();
      try {
        JsonNode cmd = mapper.readTree(line);
        switch (cmd.get("op").asText()) {
          case "register":
          case "update": {
            ServiceInstance<Map> instance = build(mapper, cmd);
            if (cmd.get("op").asText().equals("register")) discovery.registerService(instance);
            else discovery.updateService(instance);
            mine.put(instance.getId(), instance);
            reply.put("ok", true);
            break;
          }
          case "queryOne": {
            ServiceInstance<Map> i = discovery.queryForInstance(cmd.get("name").asText(), cmd.get("id").asText());
            if (i == null) reply.putNull("instance");
            else reply.set("instance", mapper.readTree(serializer.serialize(i)));
            break;
          }
          case "unregister": {
            discovery.unregisterService(mine.remove(cmd.get("id").asText()));
            reply.put("ok", true);
            break;
          }
          case "query": {
            ArrayNode list = reply.putArray("instances");
            for (ServiceInstance<Map> i : discovery.queryForInstances(cmd.get("name").asText())) {
              ObjectNode o = (ObjectNode) mapper.readTree(serializer.serialize(i));
              // What Curator's own API returns, besides its JSON.
              o.put("builtUri", i.getUriSpec() == null ? null : i.buildUriSpec());
              list.add(o);
            }
            break;
          }
          case "names": {
            ArrayNode list = reply.putArray("names");
            for (String n : discovery.queryForNames()) list.add(n);
            break;
          }
          default:
            reply.put("error", "unknown op");
        }
      } catch (Exception e) {
        reply.put("error", e.toString());
      }
      System.out.println(mapper.writeValueAsString(reply));
      System.out.flush();
    }
    discovery.close();
    client.close();
  }

  /** An instance from a register or update command: every field Curator's builder takes. */
  private static ServiceInstance<Map> build(ObjectMapper mapper, JsonNode cmd) throws Exception {
    ServiceInstanceBuilder<Map> b = ServiceInstance.<Map>builder()
        .name(cmd.get("name").asText())
        .id(cmd.get("id").asText())
        .address(cmd.get("address").asText())
        .serviceType(ServiceType.valueOf(cmd.get("serviceType").asText()));
    if (cmd.hasNonNull("port")) b.port(cmd.get("port").asInt());
    if (cmd.hasNonNull("sslPort")) b.sslPort(cmd.get("sslPort").asInt());
    if (cmd.hasNonNull("payload")) b.payload(mapper.convertValue(cmd.get("payload"), Map.class));
    if (cmd.hasNonNull("uriSpec")) b.uriSpec(new UriSpec(cmd.get("uriSpec").asText()));
    if (cmd.has("enabled")) b.enabled(cmd.get("enabled").asBoolean());
    return b.build();
  }
}

// PLACEHOLDER page: shared/Messages
import { Card } from "../../ui";

export default function Messages() {
  return (
    <Card>
      <h1>Messages</h1>
    </Card>
  );
}

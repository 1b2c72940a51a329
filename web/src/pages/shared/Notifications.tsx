// PLACEHOLDER page: shared/Notifications
import { Card } from "../../ui";

export default function Notifications() {
  return (
    <Card>
      <h1>Notifications</h1>
    </Card>
  );
}
